import type http from 'node:http';
import type { Logger } from 'pino';
import { normalizeIp } from '../net/ip';
import type { RequestContext } from '../pipeline/request-context';
import type { GatewayMetrics } from './metrics';

/**
 * Count one finished request (route, method, status, upstream, duration) and, when `accessLog`
 * is given, write its access line.
 */
export function recordRequest(
  metrics: GatewayMetrics,
  accessLog: Logger | undefined,
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
    accessLog.info(
      {
        access: true,
        method: req.method,
        path: ctx?.path ?? req.url,
        route,
        upstream: ctx?.upstreamUsed || undefined,
        status,
        duration_ms: Math.round(seconds * 1e6) / 1e3,
        bytes,
        client_ip: ctx?.clientIp ?? normalizeIp(req.socket.remoteAddress),
      },
      'request',
    );
  }
}
