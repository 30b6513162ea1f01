import Redis from 'ioredis';
import type { Logger } from 'pino';
import { GatehouseError } from '../../errors';

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[user:pass@]host:port/db` or `rediss://…` (TLS). */
  readonly url: string;
  /**
   * `strict`: `open` refuses a server that does not fsync every write (`appendonly yes` and
   * `appendfsync always`), so a resolved write survives a crash of Redis's host too. `relaxed`:
   * whatever the server does (with `everysec` up to a second of answered writes may be lost).
   */
  readonly durability: 'strict' | 'relaxed';
  /** Every key and channel starts with it, so several stores (or tests) share one server. Default `gatehouse:`. */
  readonly prefix?: string;
  readonly logger?: Logger;
  /** How long `open` may take to connect and check the server, in ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** How long an operation waits for Redis's answer before it fails, in ms. Default {@link COMMAND_TIMEOUT_MS}. */
  readonly commandTimeoutMs?: number;
}

/** The default of {@link RedisStoreOptions.commandTimeoutMs} (also the schema's). */
export const COMMAND_TIMEOUT_MS = 2000;
/** The longest pause between reconnect attempts: how late, at most, the store notices that Redis is back. */
export const RECONNECT_MAX_MS = 1000;

/** Where the URL points, for messages: host:port/db, never the credentials. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const db = u.pathname.length > 1 ? u.pathname : '';
    return `${u.protocol}//${u.hostname}:${u.port || '6379'}${db}`;
  } catch {
    return '(unparseable redis URL)';
  }
}

/** `GH_ERR_STORE_OPEN` naming the server and the reason; the message never carries the password. */
export function openError(url: string, why: string, cause?: unknown): GatehouseError {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    /* nothing to hide */
  }
  const text = password ? why.split(password).join('***') : why;
  return new GatehouseError('GH_ERR_STORE_OPEN', `Redis store ${describeUrl(url)}: ${text}`, { cause });
}

/**
 * A client that fails fast until `state.opened` says it opened (so `open` reports the first
 * problem instead of retrying forever) and reconnects with backoff afterwards.
 *
 * While Redis is unreachable every operation must fail within a bound, so that a webhook is
 * answered 503 at once instead of waiting in ioredis's offline queue for reconnect attempts
 * (with its defaults, seconds per attempt and up to 20 attempts; 8.9 s measured with 3):
 * - no offline queue: an operation made while the connection is down rejects at once;
 * - `commandTimeout`: one sent but never answered (Redis died or stalled with it) rejects then;
 * - no resending of unanswered commands after a reconnect: their callers were already told they
 *   failed, and a write replayed seconds later behind their backs (a lease nobody holds, an
 *   enqueue answered 503) is worse than one that did not happen.
 */
export function createClient(options: RedisStoreOptions, state: { opened: boolean }): Redis {
  const timeout = options.connectTimeoutMs ?? 5000;
  return new Redis(options.url, {
    lazyConnect: true,
    connectTimeout: timeout,
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => (state.opened ? Math.min(times * 100, RECONNECT_MAX_MS) : null),
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  });
}

/** Connect within the timeout; reject with host:port and the reason. */
export async function connect(client: Redis, options: RedisStoreOptions): Promise<void> {
  const timeout = options.connectTimeoutMs ?? 5000;
  let last: Error | undefined;
  let failed: (err: Error) => void = () => {};
  // The first error the socket sees (TLS, WRONGPASS, ECONNREFUSED) ends the attempt at once.
  const onError = (err: Error) => {
    last ??= err;
    failed(err);
  };
  client.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise<never>((_, reject) => {
        failed = reject;
        timer = setTimeout(() => reject(new Error(`no answer within ${timeout} ms`)), timeout);
      }),
    ]);
  } catch (err) {
    // The client is abandoned: a handshake command timing out later (commandTimeout) must not
    // surface as an unhandled 'error' event.
    client.on('error', () => undefined);
    client.disconnect();
    // The socket's error says why; connect()'s rejection only says "closed".
    const e = last ?? (err as Error);
    const hint = /WRONGPASS|NOAUTH/.test(e.message) ? ' (check the user and password in the URL)' : '';
    const why = `${e.message}${hint}`;
    throw openError(options.url, `cannot connect: ${why}`, e);
  } finally {
    clearTimeout(timer);
    client.off('error', onError);
  }
}

/** One setting from CONFIG GET, as a flat [name, value] array (RESP2) or a map (RESP3). */
async function configValue(client: Redis, name: string): Promise<string | undefined> {
  const reply = (await client.call('CONFIG', 'GET', name)) as unknown;
  if (Array.isArray(reply)) return reply[1] === undefined ? undefined : String(reply[1]);
  if (reply instanceof Map) return reply.has(name) ? String(reply.get(name)) : undefined;
  if (reply !== null && typeof reply === 'object' && name in reply) return String((reply as Record<string, unknown>)[name]);
  return undefined;
}

/**
 * Under `strict`, refuse a server whose AOF is off or fsyncs less than every write; when CONFIG
 * is disabled or renamed (managed Redis), say that it could not be checked.
 */
export async function checkDurability(client: Redis, options: RedisStoreOptions): Promise<void> {
  let appendonly: string | undefined;
  let appendfsync: string | undefined;
  try {
    appendonly = await configValue(client, 'appendonly');
    appendfsync = await configValue(client, 'appendfsync');
    const policy = await configValue(client, 'maxmemory-policy');
    if (policy !== undefined && policy !== 'noeviction') {
      options.logger?.warn(
        { store: describeUrl(options.url), maxmemoryPolicy: policy },
        'redis store: maxmemory-policy is not noeviction, so Redis may evict queue items and keys when it runs out of memory',
      );
    }
    if (appendonly === undefined || appendfsync === undefined) throw new Error('CONFIG GET returned nothing');
  } catch (err) {
    if (options.durability === 'strict') {
      options.logger?.warn(
        { store: describeUrl(options.url), err: (err as Error).message },
        'redis store: CONFIG GET is not allowed, so appendonly/appendfsync cannot be checked; durability: strict needs appendonly yes and appendfsync always on the server',
      );
    }
    return;
  }
  const strong = appendonly === 'yes' && appendfsync === 'always';
  if (strong) return;
  const found = `appendonly ${appendonly ?? '?'}, appendfsync ${appendfsync ?? '?'}`;
  if (options.durability === 'strict') {
    throw openError(
      options.url,
      `durability: strict needs appendonly yes and appendfsync always on the server, found ${found} (set them, or use durability: relaxed and accept losing up to a second of answered writes when Redis's host crashes)`,
    );
  }
  options.logger?.info({ store: describeUrl(options.url), appendonly, appendfsync }, 'redis store: relaxed durability');
}
