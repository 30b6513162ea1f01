import { GatehouseError } from '../errors';
import type { ForwardOptions } from '../pipeline/context';
import type { RequestContext } from '../pipeline/request-context';
import { Forwarder } from '../proxy/forwarder';
import type { GatewayMetrics } from '../observe/metrics';
import type { Target, UpstreamPool } from '../upstream/pool';
import { REPLAY_BUFFER_BYTES, shouldKeepBody } from '../upstream/retry';
import type { Runtime } from './runtime';
import { waitForUpgrade } from './upgrade-wait';

/*
 * The innermost step of a request: pick the upstream pool, take a target (or wait in the pool's
 * queue for one) and hand the request to http-proxy; and ctx.forward, core's own body-less
 * request to another upstream (X-Accel-Redirect); and the forwarder's hooks. The per-request
 * functions are plain functions: the per-request path makes no closures.
 */

/**
 * The gateway's forwarder, with core's hooks: the plugins' proxy hooks (guarded: false means the
 * plugin failed and the request is answered), upstream errors counted and marked for passive
 * health, and a failed attempt sent to another target when the upstream's retry allows it.
 */
export function createForwarder(metrics: GatewayMetrics): Forwarder {
  const forwarder: Forwarder = new Forwarder({
    onProxyRequest: (ctx, proxyReq) => {
      for (const h of ctx.proxyHooks.onProxyRequest) if (!h(ctx, proxyReq)) return;
    },
    onProxyResponse: (ctx, proxyRes) => {
      for (const h of ctx.proxyHooks.onProxyResponse) if (!h(ctx, proxyRes)) return;
    },
    onUpstreamError: (ctx, kind) => {
      // For passive health: the target failed (a client that left is not its failure).
      if (kind !== 'aborted') ctx.upstreamStatus = -1;
      metrics.upstreamErrors.inc({ upstream: ctx.upstreamUsed, kind });
    },
    retry: (ctx, failure) => {
      const pool = ctx.pickedPool;
      const target = pool?.retryTarget(ctx, failure);
      if (pool === undefined || target === undefined) return false;
      ctx.upstreamTimedOut = false;
      void forwarder.web(ctx, pool, target);
      return true;
    },
  });
  return forwarder;
}

/** Innermost step of every pipeline: hand the request to http-proxy. */
export function forward(forwarder: Forwarder, ctx: RequestContext, rt: Runtime): Promise<void> {
  if (ctx.answered) return Promise.resolve();
  const pool = rt.poolFor(ctx.target, ctx.upstream);
  if (!pool) {
    throw new GatehouseError(
      'GH_ERR_NO_UPSTREAM',
      ctx.upstream ? `Unknown upstream "${ctx.upstream}"` : `Route "${ctx.routeName}" has no upstream and no plugin answered`,
    );
  }
  ctx.upstreamUsed = pool.name;
  const retry = pool.config.retry;
  // A small body is kept when retries are on, so that a retry can send it again.
  if (retry !== undefined && shouldKeepBody(ctx, retry))
    return ctx.readBody({ limit: REPLAY_BUFFER_BYTES }).then(() => dispatch(forwarder, ctx, pool));
  return dispatch(forwarder, ctx, pool);
}

/** Take a target (or wait for one) and forward. */
function dispatch(forwarder: Forwarder, ctx: RequestContext, pool: UpstreamPool): Promise<void> {
  const target = pool.acquire(ctx);
  // Every target at its limit (or none): wait in the upstream's queue.
  if (target === undefined) return (ctx.upgrade ? waitForUpgrade(ctx, pool) : pool.wait(ctx)).then((t) => send(forwarder, ctx, pool, t));
  return send(forwarder, ctx, pool, target);
}

/** Forward to the target taken (undefined: the client left while the request waited). */
function send(forwarder: Forwarder, ctx: RequestContext, pool: UpstreamPool, target: Target | undefined): Promise<void> {
  if (target === undefined) return Promise.resolve();
  if (ctx.upgrade) {
    forwarder.ws(ctx, pool, target, ctx.head ?? Buffer.alloc(0));
    return Promise.resolve();
  }
  return forwarder.web(ctx, pool, target);
}

/** ctx.forward: a body-less request of core's own, streamed back to the client. */
export function forwardInternal(forwarder: Forwarder, ctx: RequestContext, o: ForwardOptions, rt: Runtime): Promise<void> {
  if (!ctx.res) return Promise.reject(new GatehouseError('GH_ERR_INTERNAL', 'ctx.forward is not available on WebSocket upgrades'));
  const pool = rt.poolFor(o.target, o.upstream);
  if (!pool) return Promise.reject(new GatehouseError('GH_ERR_NO_UPSTREAM', `Unknown upstream "${o.upstream ?? ''}"`));
  ctx.upstreamUsed = pool.name;
  // The answer that was intercepted is done with its target: its slot goes back first.
  ctx.pickedPool?.release(ctx);
  const internal = { path: o.path, method: o.method ?? 'GET' };
  const target = pool.acquire(ctx);
  if (target === undefined) return pool.wait(ctx).then((t) => (t ? forwarder.web(ctx, pool, t, internal) : undefined));
  return forwarder.web(ctx, pool, target, internal);
}
