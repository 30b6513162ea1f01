import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { GatehouseConfig } from '../config/types';
import { GatehouseError } from '../errors';
import { normalizeIp, type TrustedProxies } from '../net/ip';
import { RequestContext } from '../pipeline/request-context';
import { framingProblem } from '../proxy/framing';
import { hostOf, hostProblem, normalizePath, TargetRefused, withoutParams } from './request-target';
import type { Runtime, RouteRuntime } from './runtime';

const CLOSE = { connection: 'close' } as const;

/** What the entry checks need of the gateway. */
export interface EntryDeps {
  readonly server: GatehouseConfig['server'];
  readonly trust: TrustedProxies;
  readonly logger: Logger;
}

/**
 * A request's context: its target normalised and checked, its Host checked, its route found.
 * A request that cannot go on (a framing that could desync the upstream, an ambiguous path, a
 * bad Host, no route) is answered here, and no route is returned.
 */
export function contextFor(
  req: http.IncomingMessage,
  res: http.ServerResponse | undefined,
  socket: Duplex,
  secure: boolean,
  rt: Runtime,
  deps: EntryDeps,
): { ctx: RequestContext; route?: RouteRuntime } {
  const url = req.url ?? '';
  const method = req.method ?? 'GET';
  const q = url.indexOf('?');
  const received = q < 0 ? url : url.slice(0, q);
  const search = q < 0 ? '' : url.slice(q);
  const server = deps.server;
  // Routes match, and the upstream gets, the normalised path (request-target.ts).
  const normalized = received.startsWith('/') ? normalizePath(received, server.encodedSlashes) : received;
  const refused = normalized instanceof TargetRefused ? normalized.reason : undefined;
  const path = refused === undefined ? (normalized as string) : received;
  const rawHost = req.headers.host;
  const hostRefused = hostProblem(req.rawHeaders, rawHost);
  const host = rawHost === undefined ? '' : hostOf(rawHost);
  const peerIp = normalizeIp(req.socket.remoteAddress);
  // One trie lookup per request, shared by the client-address walk and the forwarded headers.
  const peerTrusted = deps.trust.has(peerIp);
  const route = refused || hostRefused ? undefined : rt.router.match(method, host, withoutParams(path), req.headers);
  const ctx = new RequestContext({
    req,
    res,
    socket,
    method,
    path,
    search,
    host,
    peerIp,
    clientIp: deps.trust.clientIp(peerIp, req.headers['x-forwarded-for'], peerTrusted),
    peerTrusted,
    secure,
    routeName: route?.name ?? '',
    upstreamPath: route ? route.upstreamPath(path === received ? url : path + search, path, search) : url,
    log: deps.logger,
    upstream: route?.config.upstream,
    forward: rt.forward,
  });
  // First: a request that could desync the upstream is refused, and its connection closed.
  const framing = framingProblem(req, server.maxHeaderCount, !res);
  let early: GatehouseError | undefined;
  if (framing) early = framing;
  else if (url.length > server.maxUrlLength)
    early = new GatehouseError('GH_ERR_URI_TOO_LONG', `Request target longer than ${server.maxUrlLength} bytes`);
  else if (!url.startsWith('/') || url.startsWith('//') || url.indexOf('#') >= 0)
    early = new GatehouseError('GH_ERR_BAD_REQUEST', 'Request target must be an absolute path without a fragment');
  else if (refused) early = new GatehouseError('GH_ERR_BAD_REQUEST', `Ambiguous request target: ${refused}`);
  // Checked here rather than by Node so that the answer is JSON like every other error.
  else if (req.httpVersionMajor !== 1) early = new GatehouseError('GH_ERR_BAD_REQUEST', 'Only HTTP/1.0 and HTTP/1.1 are served');
  else if (rawHost === undefined && req.httpVersionMinor === 1)
    early = new GatehouseError('GH_ERR_BAD_REQUEST', 'HTTP/1.1 requests need a Host header');
  else if (hostRefused) early = new GatehouseError('GH_ERR_BAD_REQUEST', `Bad Host: ${hostRefused}`);
  else if (method === 'TRACE') early = new GatehouseError('GH_ERR_METHOD_NOT_ALLOWED', 'TRACE is not allowed');
  else if (!route) early = new GatehouseError('GH_ERR_NO_ROUTE', `No route matches ${method} ${path}`);
  else if (!res && !route.config.websocket)
    early = new GatehouseError('GH_ERR_UPGRADE_REFUSED', `Route "${route.name}" does not allow WebSocket upgrades`);
  if (early) {
    ctx.fail(early, framing && res ? CLOSE : undefined);
    return { ctx };
  }
  const r = rt.routes[route!.index];
  ctx.proxyHooks = r.hooks;
  return { ctx, route: r };
}
