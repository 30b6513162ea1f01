import type Redis from 'ioredis';
import type { CasResult, Json, KvChange, KvEntry, KvPage, KvStore, SetOptions, Unwatch } from '../types';
import { json, ms, name } from './check';
import type { Scripts } from './scripts';

interface Watcher {
  readonly prefix: string;
  readonly onChange: (change: KvChange) => void;
  readonly onError?: (err: Error) => void;
  readonly onResume?: () => void;
}

function entry(key: string, v: string, ver: string | number, exp: string | number | null): KvEntry {
  const e: { key: string; value: Json; version: number; expiresAt?: number } = { key, value: JSON.parse(v) as Json, version: Number(ver) };
  if (exp !== null && exp !== undefined) e.expiresAt = Number(exp);
  return e;
}

function ttlArg(options?: SetOptions): string {
  return options?.ttlMs === undefined ? '' : String(ms('ttlMs', options.ttlMs));
}

/**
 * Keys as hashes (`v` json, `ver` revision, `exp`) with Redis's own expiry, a lex-ordered zset
 * as the index for `list`, one revision counter, and changes published by the writing script to
 * one channel that one subscriber connection per store fans out to the watchers.
 */
export class RedisKv implements KvStore {
  private readonly watchers = new Set<Watcher>();
  private subscriber: Redis | undefined;
  /** Pending SUBSCRIBE: this store's writes wait for it, so a watch sees the writes made after it. */
  private subscribing: Promise<unknown> | undefined;

  constructor(
    private readonly client: Redis & Scripts,
    private readonly prefix: string,
    private readonly newSubscriber: () => Redis,
  ) {}

  private key(k: string): string {
    return `${this.prefix}kv:${name('key', k)}`;
  }

  private get index(): string {
    return `${this.prefix}kvidx`;
  }

  private get expiries(): string {
    return `${this.prefix}kvexp`;
  }

  private get rev(): string {
    return `${this.prefix}rev`;
  }

  private get channel(): string {
    return `${this.prefix}kv`;
  }

  async get<T extends Json = Json>(key: string): Promise<KvEntry<T> | undefined> {
    const [v, ver, exp] = await this.client.hmget(this.key(key), 'v', 'ver', 'exp');
    return v === null || ver === null ? undefined : (entry(key, v, ver, exp) as KvEntry<T>);
  }

  async set(key: string, value: Json, options?: SetOptions): Promise<number> {
    const r = await this.write(key, value, options, '');
    return Number(r[1]);
  }

  /** set (expected '') or cas, one script: both bump the revision and publish the change. */
  private async write(
    key: string,
    value: Json,
    options: SetOptions | undefined,
    expected: string,
  ): Promise<[number, string?, string?, string?]> {
    const args = [this.key(key), this.index, this.rev, this.expiries, key, json(value), ttlArg(options), this.channel, expected] as const;
    if (this.subscribing) await this.subscribing;
    return (await this.client.ghKvSet(...args, `${this.prefix}kv:`)) as [number, string?, string?, string?];
  }

  async delete(key: string): Promise<boolean> {
    if (this.subscribing) await this.subscribing;
    return ((await this.client.ghKvDelete(this.key(key), this.index, this.rev, this.expiries, key, this.channel)) as number) > 0;
  }

  async cas(key: string, expectedVersion: number, value: Json, options?: SetOptions): Promise<CasResult> {
    const r = await this.write(key, value, options, String(ms('expectedVersion', expectedVersion)));
    if (r[0] === 1) return { ok: true, version: Number(r[1]) };
    return r.length > 1 ? { ok: false, current: entry(key, r[1]!, r[2]!, r[3] ?? null) } : { ok: false };
  }

  async list(prefix: string, options?: { cursor?: string; limit?: number }): Promise<KvPage> {
    const limit = Math.min(1000, Math.max(1, options?.limit ?? 100));
    const cursor = options?.cursor !== undefined && options.cursor.startsWith(prefix) ? options.cursor : undefined;
    const min = cursor !== undefined ? `(${cursor}` : prefix === '' ? '-' : `[${prefix}`;
    // 0xff never occurs in UTF-8, so it bounds every key that starts with the prefix.
    const max = prefix === '' ? '+' : Buffer.concat([Buffer.from(`[${prefix}`), Buffer.from([0xff])]);
    const flat = (await this.client.ghKvList(this.index, this.expiries, `${this.prefix}kv:`, min, max, limit + 1)) as (string | null)[];
    const entries: KvEntry[] = [];
    for (let i = 0; i < flat.length && entries.length < limit; i += 4)
      entries.push(entry(flat[i]!, flat[i + 1]!, flat[i + 2]!, flat[i + 3]));
    return flat.length / 4 > limit ? { entries, cursor: entries[entries.length - 1]!.key } : { entries };
  }

  watch(prefix: string, onChange: (change: KvChange) => void, onError?: (err: Error) => void, onResume?: () => void): Unwatch {
    const w: Watcher = { prefix, onChange, onError, onResume };
    this.watchers.add(w);
    this.ensureSubscribed();
    return () => {
      this.watchers.delete(w);
    };
  }

  private ensureSubscribed(): void {
    if (this.subscriber) return;
    const sub = this.newSubscriber();
    this.subscriber = sub;
    let down = false;
    sub.on('message', (_channel: string, message: string) => this.dispatch(message));
    const fail = (err: Error) => {
      if (down) return;
      down = true;
      for (const w of this.watchers) w.onError?.(err);
    };
    sub.on('error', fail);
    sub.on('close', () => fail(new Error('redis store: watch connection lost; changes may have been missed')));
    const subscribe = (resumed: boolean) =>
      sub.subscribe(this.channel).then(
        () => {
          this.subscribing = undefined;
          // Subscribed again after a loss: changes flow from here on; the watchers re-list.
          if (resumed && this.subscriber === sub) for (const w of this.watchers) w.onResume?.();
        },
        (err: Error) => {
          this.subscribing = undefined;
          fail(err);
        },
      );
    // After a reconnect ioredis subscribes again by itself, but only if the first SUBSCRIBE got
    // through, and without saying when it is done: subscribe here too (twice is harmless), and
    // tell the watchers that were told of the loss once Redis confirmed it.
    sub.on('ready', () => {
      const resumed = down;
      down = false;
      if (this.subscriber === sub && (resumed || this.subscribing === undefined)) void subscribe(resumed);
    });
    this.subscribing = subscribe(false);
  }

  private dispatch(message: string): void {
    let parsed: [string, string, string, string?];
    try {
      parsed = JSON.parse(message) as [string, string, string, string?];
    } catch {
      return;
    }
    const [type, revision, key, v] = parsed;
    let change: KvChange | undefined;
    for (const w of this.watchers) {
      if (!key.startsWith(w.prefix)) continue;
      change ??=
        type === 'set'
          ? { type: 'set', key, revision: Number(revision), value: JSON.parse(v!) as Json }
          : { type: 'delete', key, revision: Number(revision) };
      try {
        w.onChange(change);
      } catch {
        /* a watcher's own failure is its own; the others still get the change */
      }
    }
  }

  /** Stop the subscription (part of the store's close). */
  async stop(): Promise<void> {
    this.watchers.clear();
    const sub = this.subscriber;
    this.subscriber = undefined;
    this.subscribing = undefined;
    if (!sub) return;
    sub.removeAllListeners('close');
    sub.removeAllListeners('message');
    sub.on('error', () => {});
    sub.disconnect();
  }
}
