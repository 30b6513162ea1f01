import { isIP } from 'node:net';
import { coreSchemaAt, defaultsOf } from './defaults';
import { storeSpec, StoreSpecError, type StoreSetting } from '../store/spec';
import { parseCidr, type PrefixTableError } from '../net/prefix-table';
import { tlsProblems } from '../server/tls';
import type { ConfigSource } from './source';
import { formatAt } from './validate';

type Report = (path: (string | number)[], message: string) => void;

/** Config data not yet known to fit the schema: every field is checked before use. */
type Loose = Record<string, any>;

const isObject = (v: unknown): v is Loose => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Rules JSON Schema cannot express: references between sections, CIDRs, URLs, unique route
 * names, listeners that would collide, TLS files. Runs after the schema, on data that may
 * still be of the wrong shape (its errors are already reported): every access checks types.
 * `dir` is the config file's directory (relative TLS paths are resolved against it).
 */
export function crossCheck(config: unknown, source: ConfigSource | undefined, errors: string[], dir: string): void {
  if (!isObject(config)) return;
  const report: Report = (path, message) => errors.push(formatAt(source, path, message));
  const c: Loose = config;
  checkRoutes(c, report);
  checkUpstreams(c.upstreams, report);
  // The shape only (validate = start short of I/O): the store is opened at start, when used.
  if (typeof c.store === 'string' || isObject(c.store)) {
    try {
      storeSpec(c.store as StoreSetting, dir);
    } catch (err) {
      if (!(err instanceof StoreSpecError)) throw err;
      report(['store', ...err.path], err.message);
    }
  }
  const server: Loose = isObject(c.server) ? c.server : {};
  // Node 20 cuts an incomplete request no sooner than `headers`, whatever `request` says
  // (measured: headers 1.5 s and request 1 s cut a slow body at 1.75 s; headers 20 s, not in 4 s).
  const t = isObject(server.timeouts) ? server.timeouts : {};
  // Defaults are applied by now: both are numbers when valid.
  if (typeof t.request === 'number' && typeof t.headers === 'number' && t.request > 0 && t.headers > t.request) {
    report(
      ['server', 'timeouts', 'headers'],
      `timeouts.headers (${t.headers}) must not exceed timeouts.request (${t.request}): Node cuts a request no sooner than the headers timeout, so the request timeout would not hold`,
    );
  }
  if (Array.isArray(server.trustProxy)) {
    server.trustProxy.forEach((cidr: unknown, i: number) => {
      if (typeof cidr !== 'string' || isIP(cidr)) return;
      // The parser the trusted-proxy table itself uses (core/net/prefix-table.ts), so what passes here loads.
      try {
        parseCidr(cidr);
      } catch (err) {
        report(
          ['server', 'trustProxy', i],
          `found ${JSON.stringify(cidr)}, expected an IP address or CIDR such as 10.0.0.0/8 (${(err as PrefixTableError).reason ?? (err as Error).message})`,
        );
      }
    });
  }
  const https = isObject(server.https) ? server.https : undefined;
  if (https) {
    const pairGiven = typeof https.cert === 'string' && typeof https.key === 'string';
    if (!https.selfSigned && !pairGiven) report(['server', 'https'], 'https needs cert and key files, or selfSigned: {}');
    else if (https.selfSigned && (https.cert !== undefined || https.key !== undefined))
      report(['server', 'https'], 'use either cert/key or selfSigned, not both');
    else if (!https.selfSigned || (isObject(https.selfSigned) && typeof https.selfSigned.dir === 'string')) {
      for (const p of tlsProblems(dir, https as Parameters<typeof tlsProblems>[1]).problems) report(['server', 'https', p.key], p.message);
    }
  }
  checkListeners(c, report);
}

function checkRoutes(c: Loose, report: Report): void {
  if (!Array.isArray(c.routes)) return;
  const upstreams = isObject(c.upstreams) ? Object.keys(c.upstreams) : [];
  const globalPlugins = Array.isArray(c.plugins) && c.plugins.length > 0;
  // Route names key metrics and log lines: two routes with one name would be counted as one.
  const names = new Map<string, number>();
  c.routes.forEach((r: unknown, i: number) => {
    const explicit = isObject(r) && typeof r.name === 'string' ? r.name : undefined;
    const name = explicit ?? `route-${i}`;
    const first = names.get(name);
    if (first === undefined) names.set(name, i);
    else {
      const firstRoute: unknown = c.routes[first];
      const firstExplicit = isObject(firstRoute) && typeof firstRoute.name === 'string';
      const by = firstExplicit ? `/routes/${first}/name` : `/routes/${first} (unnamed routes are called route-<index>)`;
      if (explicit !== undefined)
        report(
          ['routes', i, 'name'],
          `route name "${name}" is already used by ${by}; route names must be unique (they key metrics and logs)`,
        );
      else report(['routes', i], `this route's default name "${name}" is already used by ${by}; give this route a name of its own`);
    }
  });
  c.routes.forEach((r: unknown, i: number) => {
    if (!isObject(r)) return;
    if (r.upstream !== undefined && typeof r.upstream === 'string' && !upstreams.includes(r.upstream)) {
      const hint = upstreams.length ? `; declared upstreams: ${upstreams.join(', ')}` : '; no upstreams are declared';
      report(['routes', i, 'upstream'], `unknown upstream "${r.upstream}"${hint}`);
    }
    if (r.upstream === undefined && !(Array.isArray(r.plugins) && r.plugins.length) && !globalPlugins) {
      report(['routes', i], 'a route needs an upstream or at least one plugin to answer');
    }
    const m: Loose = isObject(r.match) ? r.match : {};
    const kinds = ['path', 'pathExact', 'pathRegex'].filter((k) => m[k] !== undefined);
    if (kinds.length > 1) report(['routes', i, 'match'], `use only one of path, pathExact, pathRegex (found ${kinds.join(', ')})`);
  });
}

/** Targets must be URLs Node can connect to (the schema's `uri` format checks that they parse). */
function checkUpstreams(upstreams: unknown, report: Report): void {
  if (!isObject(upstreams)) return;
  for (const [name, u] of Object.entries(upstreams)) {
    if (!isObject(u) || !Array.isArray(u.targets)) continue;
    u.targets.forEach((entry: unknown, i: number) => {
      const t = isObject(entry) ? entry.url : entry;
      if (typeof t !== 'string' || !URL.canParse(t)) return;
      const url = new URL(t);
      const at = isObject(entry) ? ['upstreams', name, 'targets', i, 'url'] : ['upstreams', name, 'targets', i];
      if (url.port === '0') report(at, `found ${JSON.stringify(t)}: port 0 cannot be connected to`);
    });
  }
}

interface Listener {
  readonly name: string;
  readonly at: (string | number)[];
  readonly port: number;
  readonly host: string;
}

/** Two binds of one port collide on the same address, or when either is a wildcard of that family. */
function overlap(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase() || a === '::' || b === '::') return true;
  return (a === '0.0.0.0' && isIP(b) !== 6) || (b === '0.0.0.0' && isIP(a) !== 6);
}

/** Listeners on one port and address would fail with EADDRINUSE at start: say so in validate. */
function checkListeners(c: Loose, report: Report): void {
  const server: Loose = isObject(c.server) ? c.server : {};
  const list: Listener[] = [];
  const add = (name: string, path: string[], block: unknown, dflt: { port: number; host: string }) => {
    if (!isObject(block)) return;
    const port = block.port ?? dflt.port;
    const host = block.host ?? dflt.host;
    if (typeof port === 'number' && typeof host === 'string' && port !== 0)
      list.push({ name, at: block.port === undefined ? path : [...path, 'port'], port, host });
  };
  // No listener block means the default http listener (filled in after validation).
  const dflt = (path: string[]): { port: number; host: string } => defaultsOf(coreSchemaAt(path)) as { port: number; host: string };
  add('http', ['server', 'http'], server.http ?? (server.https === undefined ? {} : undefined), dflt(['server', 'http']));
  add('https', ['server', 'https'], server.https, dflt(['server', 'https']));
  add('admin', ['admin'], c.admin, dflt(['admin']));
  list.forEach((l, i) => {
    const earlier = list.slice(0, i).find((e) => e.port === l.port && overlap(e.host, l.host));
    if (earlier) {
      report(
        l.at,
        `the ${l.name} listener (${l.host}:${l.port}) would use the port of the ${earlier.name} listener (${earlier.host}:${earlier.port}); give each its own port`,
      );
    }
  });
}
