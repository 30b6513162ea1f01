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
    // A closed connection may mean a Redis that comes back without the key (restarted empty, a
    // failover to a replica that missed it), free for another process at its next try, maybe
    // before this one's next renewal: the holder is told to stop now rather than then.
    const lost = new AbortController();
    const onClose = () => lost.abort(new Error(`redis store: the connection closed while holding lock ${name}`));
    client.once('close', onClose);
    return {
      name,
      token,
      lost: lost.signal,
      async renew(ms = ttlMs) {
        return (await client.ghLockRenew(key, token, Math.max(1, whole('ttlMs', ms)))) === 1;
      },
      async release() {
        client.off('close', onClose);
        await client.ghLockRelease(key, token);
      },
    };
  }
}
