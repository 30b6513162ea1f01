import type { RouteConfig } from '../config/types';

/** A route compiled for matching. */
export interface CompiledRoute {
  readonly name: string;
  readonly index: number;
  readonly config: Readonly<RouteConfig>;
  matches(method: string, host: string, path: string, headers: NodeJS.Dict<string | string[]>): boolean;
  /** The path (with query) to send upstream after stripPrefix/rewrite; `url` is path + search as received. */
  upstreamPath(url: string, path: string, search: string): string;
}

type Test = (method: string, host: string, path: string, headers: NodeJS.Dict<string | string[]>) => boolean;

function hostTest(hosts: string[]): Test {
  const exact = new Set(hosts.filter((h) => !h.startsWith('*.')).map((h) => h.toLowerCase()));
  const suffixes = hosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1).toLowerCase());
  return (_m, host) => exact.has(host) || suffixes.some((s) => host.endsWith(s) && host.length > s.length);
}

function pathTest(m: RouteConfig['match']): Test | undefined {
  if (m.pathExact !== undefined) {
    const p = m.pathExact;
    return (_m, _h, path) => path === p;
  }
  if (m.pathRegex !== undefined) {
    const re = new RegExp(m.pathRegex);
    return (_m, _h, path) => re.test(path);
  }
  if (m.path !== undefined && m.path !== '/') {
    const prefix = m.path;
    // `/api` matches /api and /api/x but not /apiary; `/api/` matches only below it.
    if (prefix.endsWith('/')) return (_m, _h, path) => path.startsWith(prefix);
    return (_m, _h, path) => path === prefix || path.startsWith(`${prefix}/`);
  }
  return undefined;
}

function headerTest(headers: NonNullable<RouteConfig['match']['headers']>): Test {
  const checks = Object.entries(headers).map(([name, want]) => {
    const key = name.toLowerCase();
    const re = typeof want === 'string' ? undefined : new RegExp(want.regex);
    return (h: NodeJS.Dict<string | string[]>) => {
      const got = h[key];
      if (got === undefined) return false;
      const value = Array.isArray(got) ? got.join(', ') : got;
      return re ? re.test(value) : value === want;
    };
  });
  return (_m, _h, _p, h) => checks.every((c) => c(h));
}

/** Compile one route; every test is built once so matching allocates nothing. */
export function compileRoute(config: Readonly<RouteConfig>, index: number): CompiledRoute {
  const m = config.match ?? {};
  const tests: Test[] = [];
  if (m.methods) {
    const set = new Set(m.methods);
    tests.push((method) => set.has(method));
  }
  if (m.host !== undefined) tests.push(hostTest(Array.isArray(m.host) ? m.host : [m.host]));
  const pt = pathTest(m);
  if (pt) tests.push(pt);
  if (m.headers) tests.push(headerTest(m.headers));
  const strip = config.stripPrefix;
  const rewrite = config.rewrite ? { re: new RegExp(config.rewrite.pattern), to: config.rewrite.replacement } : undefined;
  return {
    name: config.name ?? `route-${index}`,
    index,
    config,
    matches: (method, host, path, headers) => tests.every((t) => t(method, host, path, headers)),
    upstreamPath(url, path, search) {
      if (!strip && !rewrite) return url;
      let p = path;
      if (strip && (p === strip || p.startsWith(strip.endsWith('/') ? strip : `${strip}/`))) p = p.slice(strip.length) || '/';
      if (!p.startsWith('/')) p = `/${p}`;
      if (rewrite) p = p.replace(rewrite.re, rewrite.to);
      return p + search;
    },
  };
}

/** An ordered route table: the first match wins. */
export class Router {
  readonly routes: readonly CompiledRoute[];
  constructor(routes: readonly Readonly<RouteConfig>[]) {
    this.routes = routes.map(compileRoute);
  }

  match(method: string, host: string, path: string, headers: NodeJS.Dict<string | string[]>): CompiledRoute | undefined {
    for (const r of this.routes) if (r.matches(method, host, path, headers)) return r;
    return undefined;
  }
}
