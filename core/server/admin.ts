import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { GatehouseError, isReported } from '../errors';
import { redactUrl } from '../net/url';
import { registryRoutes } from '../registry/admin-routes';
import { AdminRouter, type AdminRoute } from './admin-router';
import { AuthFailures } from './auth-failures';
import { Dashboard } from '../ui/dashboard';
import type { ClusterView } from '../ui/snapshot';
import type { Gateway } from './gateway';
import type { UpstreamPool } from '../upstream/pool';

const SECRET_KEY = /(token|secret|password|passphrase|credential|api[-_]?key|private[-_]?key|jwt)/i;

/** A copy of the config with secrets and URL credentials replaced by `[redacted]`. */
export function redact(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key)) return '[redacted]';
    return redactUrl(value);
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, key)); // secrets: [a, b] is as secret as secret: a
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}

/** Compare a presented bearer token in constant time (hashing first hides the length). */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = createHash('sha256').update(m[1].trim()).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** Core's admin endpoints: health and readiness open, the rest behind the token. */
function coreRoutes(gw: Gateway): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      open: true,
      handle: function healthz(a) {
        a.json(200, { status: 'ok' });
      },
    },
    {
      method: 'GET',
      path: '/readyz',
      open: true,
      handle: function readyz(a) {
        const reasons: { plugin: string | null; reason: string }[] = gw.ready
          ? gw.runtime.notReady()
          : [{ plugin: null, reason: 'not listening' }];
        // A store that is down is reported, and by default leaves the instance ready: the routes
        // that need no state still work, and every instance shares the one Redis, so a load
        // balancer dropping them all would turn a store outage into a total one. `?require=store`
        // makes it a reason (for a balancer in front of state-only routes).
        const store = gw.store.health();
        if (store && !store.up && a.query.getAll('require').includes('store'))
          reasons.push({ plugin: null, reason: `state store unavailable: ${store.reason}` });
        const extra = store ? { store } : {};
        if (reasons.length === 0) a.json(200, { status: 'ready', ...extra });
        else a.json(503, { status: 'not ready', reasons, ...extra });
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      handle: async function metrics(a) {
        a.send(200, await gw.metrics.registry.metrics(), { 'content-type': gw.metrics.registry.contentType });
      },
    },
    {
      method: 'GET',
      path: '/config',
      handle: function config(a) {
        a.json(200, { file: gw.runtime.loaded.file, config: redact(gw.runtime.loaded.config) });
      },
    },
    {
      method: 'GET',
      path: '/routes',
      handle: function routes(a) {
        a.json(
          200,
          gw.runtime.router.routes.map((r) => ({
            name: r.name,
            match: r.config.match,
            upstream: r.config.upstream ?? null,
            websocket: r.config.websocket,
            plugins: r.config.plugins.map((p) => Object.keys(p)[0]),
          })),
        );
      },
    },
    {
      method: 'GET',
      path: '/upstreams',
      handle: function upstreams(a) {
        a.json(200, upstreamsState(gw));
      },
    },
    ...registryRoutes(gw.registry),
    {
      method: 'POST',
      path: '/reload',
      handle: async function reload(a) {
        try {
          await gw.reload();
        } catch (err) {
          throw new GatehouseError('GH_ERR_RELOAD_FAILED', (err as Error).message, { status: 422, cause: err });
        }
        a.json(200, { status: 'reloaded', file: gw.runtime.loaded.file });
      },
    },
  ];
}

/** `GET /upstreams`: every declared upstream's state, by name. */
export function upstreamsState(gw: Gateway): Record<string, unknown> {
  return Object.fromEntries([...gw.upstreams.pools].map(([name, p]) => [name, upstreamState(p)]));
}

/** An upstream as `GET /upstreams` shows it: settings, queue, and each target's state. */
function upstreamState(p: UpstreamPool): Record<string, unknown> {
  const now = Date.now();
  return {
    balance: p.config.balance,
    timeout: p.config.timeout,
    maxConnectionsPerTarget: p.config.maxConnectionsPerTarget,
    queued: p.queued(),
    panic: p.panic,
    openSockets: p.openSockets(),
    targets: p.targets.map((t) => ({
      url: redact(t.key),
      weight: t.weight,
      maxConnections: t.maxConnections || p.config.maxConnectionsPerTarget || null,
      inflight: t.active,
      healthy: t.healthy,
      ejected: t.ejected(now),
      ejectedUntil: t.ejected(now) ? new Date(t.ejectedUntil).toISOString() : null,
      ejections: t.ejectedTotal,
      retries: t.retries,
      picks: t.picks,
      latencyEwmaMs: Math.round(t.ewmaMs * 1000) / 1000,
      openSockets: t.openSockets(),
    })),
  };
}

/**
 * The admin API: a route table of core's endpoints, the dashboard at /ui, and, under
 * /plugins/<instance>/, those of the current generation's plugins. `replace` takes the place of
 * core's endpoints of the same method and path (a cluster primary answers /metrics, /readyz,
 * /upstreams and /reload for its workers), and `cluster` is what its dashboard shows of them.
 */
export function createAdminServer(gw: Gateway, token: string, replace: readonly AdminRoute[] = [], cluster?: ClusterView): http.Server {
  const same = (a: AdminRoute, b: AdminRoute) => a.method === b.method && a.path === b.path;
  const failures = new AuthFailures();
  const dashboard = new Dashboard(gw, token, failures, cluster);
  const router = new AdminRouter(
    [...replace, ...coreRoutes(gw).filter((r) => !replace.some((x) => same(x, r))), ...dashboard.routes()],
    function adminToken(req, res) {
      failures.refuseIfLocked(req, res);
      const ok = tokenMatches(req.headers.authorization, token);
      if (!ok && req.headers.authorization !== undefined) failures.fail(req);
      return ok;
    },
    () => gw.runtime.adminRoutes,
    (err, path) => {
      if (!isReported(err)) gw.logger.error({ err, path }, 'admin endpoint failed');
    },
  );
  dashboard.attach(router);
  return http.createServer(function adminApi(req, res) {
    void router.handle(req, res);
  });
}
