import { isAbsolute, resolve } from 'node:path';
import { coreSchemaAt, defaultsOf } from '../config/defaults';
import { redactUrl } from '../net/url';
import type { JsonSchema } from '../plugin/contract';

/** How hard a resolved write is held: `strict` survives power loss, `relaxed` a process crash only. */
export type Durability = 'strict' | 'relaxed';

/** The `store:` setting, resolved: which backend, where, and how. */
export type StoreSpec =
  | { readonly backend: 'sqlite'; readonly path: string; readonly durability: Durability }
  | {
      readonly backend: 'redis';
      readonly url: string;
      readonly durability: Durability;
      /** Every key of this gatehouse under it, so that one Redis can serve several deployments. */
      readonly prefix: string;
      readonly connectTimeoutMs: number;
      readonly commandTimeoutMs: number;
    };

/** `store:` as the config may write it (after the schema filled in defaults). */
export type StoreSetting =
  string | { url: string; durability?: Durability; prefix?: string; connectTimeoutMs?: number; commandTimeoutMs?: number } | undefined;

/** Why a `store:` value cannot be used, with the JSON path below `store` it is about. */
export class StoreSpecError extends Error {
  constructor(
    message: string,
    readonly path: string[] = [],
  ) {
    super(message);
  }
}

/** The object form's defaults, read from the schema where they are written and documented. */
interface StoreTuning {
  readonly durability: Durability;
  readonly prefix: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
}

let tuningDefaults: StoreTuning | undefined;
function defaults(): StoreTuning {
  tuningDefaults ??= defaultsOf((coreSchemaAt(['store']).anyOf as JsonSchema[])[1]) as unknown as StoreTuning;
  return tuningDefaults;
}

/**
 * Resolve `store:` against the config file's directory. `sqlite:PATH` (relative to `dir`;
 * `sqlite:/abs`, `sqlite:///abs` too) or `redis://[user:pass@]host[:port][/db]` (`rediss://` for
 * TLS). Checks only the shape: nothing is opened (validate = start short of I/O).
 * @throws StoreSpecError naming what is wrong.
 */
export function storeSpec(setting: StoreSetting, dir: string): StoreSpec {
  const tuning = defaults();
  const object = typeof setting === 'object' && setting !== null;
  const url = object ? setting.url : setting;
  const at = object ? ['url'] : [];
  const durability = (object && setting.durability) || tuning.durability;
  if (typeof url !== 'string' || url === '') throw new StoreSpecError('expected a store URL: sqlite:PATH or redis://host:port', at);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') {
    if (object && (setting.prefix !== undefined || setting.connectTimeoutMs !== undefined || setting.commandTimeoutMs !== undefined))
      throw new StoreSpecError(
        'prefix, connectTimeoutMs and commandTimeoutMs are Redis settings; a sqlite: store takes url and durability',
        [],
      );
    return { backend: 'sqlite', path: sqlitePath(url, dir, at), durability };
  }
  if (scheme === 'redis' || scheme === 'rediss') {
    checkRedisUrl(url, at);
    return {
      backend: 'redis',
      url,
      durability,
      prefix: (object && setting.prefix) || tuning.prefix,
      connectTimeoutMs: (object && setting.connectTimeoutMs) || tuning.connectTimeoutMs,
      commandTimeoutMs: (object && setting.commandTimeoutMs) || tuning.commandTimeoutMs,
    };
  }
  throw new StoreSpecError(
    `found ${JSON.stringify(redactUrl(url))}: expected sqlite:PATH (embedded, the default) or redis://[user:pass@]host:port[/db] (rediss:// for TLS)`,
    at,
  );
}

function sqlitePath(url: string, dir: string, at: string[]): string {
  let path = url.slice('sqlite:'.length);
  // sqlite:///abs/file.db is the URL spelling of sqlite:/abs/file.db.
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '' || path.endsWith('/')) throw new StoreSpecError(`found ${JSON.stringify(url)}: expected sqlite:PATH naming a file`, at);
  if (path === ':memory:' || path.startsWith('file:'))
    throw new StoreSpecError(`found ${JSON.stringify(url)}: the store must be a file on disk (its promise is to survive a crash)`, at);
  if (path.includes('\0')) throw new StoreSpecError('the path contains a NUL byte', at);
  return isAbsolute(path) ? path : resolve(dir, path);
}

function checkRedisUrl(url: string, at: string[]): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreSpecError(`found ${JSON.stringify(redactUrl(url))}: not a URL (redis://[user:pass@]host:port[/db])`, at);
  }
  const shown = JSON.stringify(redactUrl(url));
  if (!u.hostname) throw new StoreSpecError(`found ${shown}: no host`, at);
  if (u.search || u.hash)
    throw new StoreSpecError(`found ${shown}: a store URL takes no ?query or #fragment (tuning goes in store: { url, … })`, at);
  if (u.pathname !== '' && u.pathname !== '/' && !/^\/(?:[0-9]|1[0-5])$/.test(u.pathname))
    throw new StoreSpecError(`found ${shown}: the path is the database number, /0 to /15`, at);
}

/** What a reload compares: a changed store needs a restart. */
export function describeSpec(spec: StoreSpec): string {
  return spec.backend === 'sqlite'
    ? `sqlite:${spec.path} (${spec.durability})`
    : `${redactUrl(spec.url)} (${spec.durability}, prefix ${spec.prefix})`;
}
