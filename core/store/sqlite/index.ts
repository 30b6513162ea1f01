import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type {
  CasResult,
  EnqueueOptions,
  EnqueueResult,
  Json,
  KvEntry,
  KvStore,
  LeasedItem,
  LeaseRef,
  ListOptions,
  Lock,
  LockStore,
  QueueStats,
  QueueStore,
  SetOptions,
  StoreBackend,
} from '../types';
import { WorkerClient } from './client';
import type { ItemRow, KvRow } from './protocol';
import { deadLetter, item, leased } from './rows';
import { listFlags, pageLimit } from '../paging';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file; parent directories are created. */
  readonly path: string;
  /**
   * `strict`: every resolved write has been fsynced (WAL, synchronous=FULL): survives SIGKILL and
   * power loss. `relaxed`: synchronous=NORMAL: survives SIGKILL of gatehouse, but the last
   * commits before a power loss or OS crash may be lost.
   */
  readonly durability: 'strict' | 'relaxed';
  readonly logger?: Logger;
  /** ms a write waits for another process's write lock before failing. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** ms between polls for other processes' changes while something watches. Default 100. */
  readonly pollMs?: number;
}

/** Check a key, queue, lock or id name: 1–512 characters. */
function name(kind: string, value: string): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 512) {
    throw new TypeError(`store ${kind} must be a string of 1-512 characters, got ${JSON.stringify(value)?.slice(0, 40)}`);
  }
  return value;
}

/** JSON text of a value; throws on what JSON cannot hold (undefined, functions, cycles). */
function json(value: Json): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('store values must be JSON');
  return text;
}

function ms(kind: string, value: number | undefined, dflt = 0): number {
  const v = value ?? dflt;
  if (!Number.isFinite(v) || v < 0) throw new TypeError(`store ${kind} must be a number of ms >= 0, got ${value}`);
  return Math.floor(v);
}

const entry = (row: KvRow): KvEntry => ({
  key: row.key,
  value: JSON.parse(row.value) as Json,
  version: row.version,
  ...(row.expires_at !== null ? { expiresAt: row.expires_at } : {}),
});

/**
 * The embedded state store: one SQLite file, shared by every process that opens it. All SQLite
 * work runs in one worker thread per store (see worker.ts), which commits concurrent writes
 * together: each resolved write is durable, and throughput grows with concurrency.
 */
export class SqliteStore implements StoreBackend {
  readonly backend = 'sqlite' as const;
  readonly kv: KvStore;
  readonly queue: QueueStore;
  readonly locks: LockStore;
  private readonly client: WorkerClient;
  private readonly path: string;
  private readonly durability: 'strict' | 'relaxed';
  private readonly logger?: Logger;

  constructor(options: SqliteStoreOptions) {
    this.path = resolve(options.path);
    this.durability = options.durability;
    this.logger = options.logger;
    this.client = new WorkerClient(
      { path: this.path, durability: options.durability, busyTimeoutMs: options.busyTimeoutMs ?? 5000, pollMs: options.pollMs ?? 100 },
      options.logger,
    );
    this.kv = this.makeKv();
    this.queue = this.makeQueue();
    this.locks = this.makeLocks();
  }

  /** Open the file (creating it and its parent directories), switch to WAL, create the tables. */
  async open(): Promise<void> {
    await this.client.start();
    this.logger?.info({ store: 'sqlite', path: this.path, durability: this.durability }, 'state store opened');
  }

  /** Finish the writes already asked for, then close the file and stop the worker. */
  close(): Promise<void> {
    return this.client.close();
  }

  queues(): Promise<string[]> {
    return this.client.call('qQueues');
  }

  private makeKv(): KvStore {
    const c = this.client;
    const ttl = (o?: SetOptions): number | undefined => (o?.ttlMs === undefined ? undefined : ms('ttlMs', o.ttlMs));
    return {
      get: async <T extends Json>(key: string) => {
        const row = await c.call<KvRow | undefined>('kvGet', name('key', key));
        return row && (entry(row) as KvEntry<T>);
      },
      set: async (key, value, options) => c.call<number>('kvSet', name('key', key), json(value), ttl(options)),
      delete: async (key) => c.call<boolean>('kvDelete', name('key', key)),
      cas: async (key, expected, value, options) => {
        const r = await c.call<{ ok: boolean; version?: number; current?: KvRow }>(
          'kvCas',
          name('key', key),
          expected,
          json(value),
          ttl(options),
        );
        if (r.ok) return { ok: true, version: r.version! } satisfies CasResult;
        return r.current ? { ok: false, current: entry(r.current) } : { ok: false };
      },
      list: async (prefix, options) => {
        const limit = Math.min(1000, Math.max(1, Math.floor(options?.limit ?? 100)));
        const rows = await c.call<KvRow[]>('kvList', prefix, options?.cursor, limit);
        if (rows.length <= limit) return { entries: rows.map(entry) };
        const page = rows.slice(0, limit);
        return { entries: page.map(entry), cursor: page[limit - 1].key };
      },
      watch: (prefix, onChange, onError) => c.watch(prefix, onChange, onError),
    };
  }

  private makeQueue(): QueueStore {
    const c = this.client;
    const ref = (r: LeaseRef): [string, string, string] => [name('queue', r.queue), name('id', r.id), r.token];
    // Dead letters page by death (ended_at, then seq), whether asked for by deadLetters or list.
    const deadPage = (queue: string, cursor: string | undefined, n: number): Promise<ItemRow[]> => {
      const [ended, seq] = (cursor ?? '-1:0').split(':').map(Number);
      return c.call<ItemRow[]>(
        'qDeadLetters',
        name('queue', queue),
        Number.isFinite(ended) ? ended : -1,
        Number.isFinite(seq) ? seq : 0,
        n,
      );
    };
    return {
      enqueue: async (queue: string, payload: Json, o: EnqueueOptions = {}): Promise<EnqueueResult> => {
        const id = o.id === undefined ? randomUUID() : name('id', o.id);
        const group = o.group === undefined ? null : name('group', o.group);
        const args = [name('queue', queue), id, json(payload), ms('delayMs', o.delayMs), group, ms('retainMs', o.retainMs)];
        return { id, duplicate: await c.call<boolean>('qEnqueue', ...args) };
      },
      lease: async <T extends Json>(queue: string, n: number, leaseMs: number) => {
        const count = Math.max(0, Math.floor(n));
        if (count === 0) return [];
        const rows = await c.call<Parameters<typeof leased>[0][]>('qLease', name('queue', queue), count, ms('leaseMs', leaseMs));
        return rows.map((row) => leased(row) as LeasedItem<T>);
      },
      extend: (r, leaseMs) => c.call('qExtend', ...ref(r), ms('leaseMs', leaseMs)),
      ack: async (r, result) => c.call('qAck', ...ref(r), result === undefined ? null : json(result)),
      retry: async (r, delayMs, error) => c.call('qRetry', ...ref(r), ms('delayMs', delayMs), String(error)),
      dead: async (r, error) => c.call('qDead', ...ref(r), String(error)),
      get: async <T extends Json>(queue: string, id: string) => {
        const row = await c.call<Parameters<typeof item>[0] | undefined>('qGet', name('queue', queue), name('id', id));
        return row && item<T>(row);
      },
      remove: async (queue, id) => c.call('qRemove', name('queue', queue), name('id', id)),
      list: async <T extends Json>(queue: string, options?: ListOptions) => {
        const limit = pageLimit(options?.limit);
        const flags = listFlags(options?.state);
        const rows = await (flags === 'd'
          ? deadPage(queue, options?.cursor, limit + 1)
          : c.call<ItemRow[]>('qList', name('queue', queue), flags, Number(options?.cursor ?? 0) || 0, limit + 1));
        const items = rows.slice(0, limit).map((row) => item<T>(row));
        if (rows.length <= limit) return { items };
        const last = rows[limit - 1]!;
        return { items, cursor: flags === 'd' ? `${last.ended_at}:${last.seq}` : String(last.seq) };
      },
      deadLetters: async (queue, options) => {
        const limit = pageLimit(options?.limit);
        const rows = await deadPage(queue, options?.cursor, limit + 1);
        if (rows.length <= limit) return { items: rows.map(deadLetter) };
        const last = rows[limit - 1]!;
        return { items: rows.slice(0, limit).map(deadLetter), cursor: `${last.ended_at}:${last.seq}` };
      },
      replay: async (queue, id) => c.call('qReplay', name('queue', queue), name('id', id)),
      purge: async (queue, id) => c.call('qPurge', name('queue', queue), ...(id === undefined ? [] : [name('id', id)])),
      stats: async (queue) => c.call<QueueStats>('qStats', name('queue', queue)),
    };
  }

  private makeLocks(): LockStore {
    const c = this.client;
    return {
      acquire: async (lockName, ttlMs) => {
        const ttl = ms('ttlMs', ttlMs);
        const token = randomUUID();
        if (!(await c.call<boolean>('lockAcquire', name('lock', lockName), token, ttl))) return undefined;
        const lock: Lock = {
          name: lockName,
          token,
          renew: (again?: number) => c.call<boolean>('lockRenew', lockName, token, ms('ttlMs', again, ttl)),
          release: async () => {
            await c.call('lockRelease', lockName, token);
          },
        };
        return lock;
      },
    };
  }
}
