import type http from 'node:http';
import { normalizeIp } from '../net/ip';
import type { RequestContext } from '../pipeline/request-context';
import type { GatewayMetrics } from './metrics';
import type { AccessLog } from './access-log';

/**
 * Count one finished request (route, method, status, upstream, duration) and, when `accessLog`
 * is given, write its access line.
 */
export function recordRequest(
  metrics: GatewayMetrics,
  accessLog: AccessLog | undefined,
  req: http.IncomingMessage,
  status: number,
  ctx: RequestContext | undefined,
  start: bigint,
  bytes: number,
): void {
  const method = req.method ?? 'OTHER';
  const route = ctx?.routeName || 'none';
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  metrics.countRequest(route, method, status, ctx?.upstreamUsed || 'none', seconds);
  if (accessLog) {
    accessLog.write({
      method: req.method ?? '',
      path: ctx?.path ?? req.url ?? '',
      url: req.url ?? '',
      httpVersion: req.httpVersion,
      route,
      upstream: ctx?.upstreamUsed || undefined,
      status,
      durationMs: Math.round(seconds * 1e6) / 1e3,
      bytes,
      clientIp: ctx?.clientIp ?? normalizeIp(req.socket.remoteAddress),
      referer: req.headers.referer,
      userAgent: req.headers['user-agent'],
    });
  }
}
