/**
 * The Redis backend of the state store: state shared by every gatehouse instance that points at
 * one Redis. Design and guarantees: core/store/README.md, "Redis".
 */
import type Redis from 'ioredis';
import type { StoreBackend } from '../types';
import { checkDurability, connect, createClient, describeUrl, openError, type RedisStoreOptions } from './connect';
import { RedisKv } from './kv';
import { RedisLocks } from './locks';
import { RedisQueue } from './queue';
import { defineScripts, type Scripts } from './scripts';

export type { RedisStoreOptions } from './connect';

/** How long `close` waits for a polite QUIT before dropping the connections. */
const CLOSE_MS = 2000;

/** A {@link StoreBackend} on one Redis server (standalone, or a Sentinel/managed primary). */
export class RedisStore implements StoreBackend {
  readonly backend = 'redis' as const;
  readonly kv: RedisKv;
  readonly queue: RedisQueue;
  readonly locks: RedisLocks;
  private readonly client: Redis & Scripts;
  private readonly state = { opened: false };
  private readonly options: RedisStoreOptions;
  private closed = false;
  /** The last connection error, for {@link health}. */
  private lastError = '';

  constructor(options: RedisStoreOptions) {
    try {
      const u = new URL(options.url);
      if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`unsupported scheme ${u.protocol}`);
    } catch (err) {
      throw openError(options.url, `not a redis:// or rediss:// URL (${(err as Error).message})`);
    }
    this.options = { ...options, prefix: options.prefix ?? 'gatehouse:' };
    const prefix = this.options.prefix!;
    this.client = defineScripts(createClient(this.options, this.state));
    // The subscriber keeps an offline queue: its SUBSCRIBE is sent before it connected (it never
    // carries writes, and ioredis subscribes it again after each reconnect by itself).
    this.kv = new RedisKv(this.client, prefix, () => this.client.duplicate({ enableOfflineQueue: true }));
    this.queue = new RedisQueue(this.client, prefix);
    this.locks = new RedisLocks(this.client, prefix);
  }

  /** Connect within `connectTimeoutMs` and, under `strict`, check that the server fsyncs every write. */
  async open(): Promise<void> {
    await connect(this.client, this.options);
    try {
      await checkDurability(this.client, this.options);
    } catch (err) {
      this.client.disconnect();
      throw err;
    }
    this.state.opened = true;
    // A reconnect may land on another server (a failover): check it again; it can only be logged now.
    this.client.on('ready', () => {
      if (this.lastError !== '') this.options.logger?.info({ store: describeUrl(this.options.url) }, 'redis store: connected again');
      this.lastError = '';
      if (this.options.durability !== 'strict') return;
      checkDurability(this.client, this.options).catch((err: Error) =>
        this.options.logger?.error(
          { store: describeUrl(this.options.url), err: err.message },
          'redis store: the server reconnected to is not durable',
        ),
      );
    });
    // After open, errors are reconnects that ioredis retries; log them rather than crash on 'error'.
    this.client.on('close', () => {
      if (!this.closed && this.lastError === '') this.lastError = 'connection closed';
    });
    this.client.on('error', (err: Error) => {
      this.lastError = err.message;
      this.options.logger?.warn({ store: describeUrl(this.options.url), err: err.message }, 'redis store: connection error');
    });
  }

  /** `true` while the connection is up; else its state and the last error (operations fail at once meanwhile). */
  health(): true | string {
    const status = this.client.status;
    if (status === 'ready') return true;
    const why = this.lastError !== '' ? `: ${this.lastError}` : '';
    return `redis ${describeUrl(this.options.url)} is unreachable (connection ${status}${why})`;
  }

  /** Stop watchers, wait for enqueues under way, close both connections; a server that does not answer is dropped after 2 s. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.kv.stop();
    if (this.client.status === 'end' || this.client.status === 'wait') {
      this.client.disconnect();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_MS);
    });
    // Enqueues already accepted get their answer before the connection goes (QUIT also waits for
    // the replies of everything sent before it).
    await Promise.race([
      this.queue
        .drain()
        .then(() => this.client.quit())
        .catch(() => undefined),
      late,
    ]);
    clearTimeout(timer);
    this.state.opened = false;
    this.client.disconnect();
  }

  /** Known queue names, for the metrics collector. */
  queues(): Promise<string[]> {
    return this.queue.names();
  }
}
