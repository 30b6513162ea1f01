import { randomUUID } from 'node:crypto';
import type { Lock, LockStore } from '../types';
import { ms as whole, name as checked } from './check';
import type { Scripts } from './scripts';
import type Redis from 'ioredis';

/** Locks as `SET NX PX` keys holding the holder's token; Redis's own clock expires them. */
export class RedisLocks implements LockStore {
  constructor(
    private readonly client: Redis & Scripts,
    private readonly prefix: string,
  ) {}

  /** The lock if it was free (or expired), else undefined. */
  async acquire(name: string, ttlMs: number): Promise<Lock | undefined> {
    const key = `${this.prefix}lock:${checked('lock name', name)}`;
    const token = randomUUID();
    const ok = await this.client.set(key, token, 'PX', Math.max(1, whole('ttlMs', ttlMs)), 'NX');
    if (ok !== 'OK') return undefined;
    const client = this.client;
    return {
      name,
      token,
      async renew(ms = ttlMs) {
        return (await client.ghLockRenew(key, token, Math.max(1, whole('ttlMs', ms)))) === 1;
      },
      async release() {
        await client.ghLockRelease(key, token);
      },
    };
  }
}
