import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Gateway } from './gateway';

const SECRET_KEY = /(token|secret|password|passphrase|credential|api[-_]?key|private[-_]?key|jwt)/i;

/** A copy of the config with secrets and URL credentials replaced by `[redacted]`. */
export function redact(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key)) return '[redacted]';
    return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1[redacted]@');
  }
  if (Array.isArray(value)) return value.map((v) => redact(v));
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

function send(res: http.ServerResponse, status: number, body: unknown, type = 'application/json; charset=utf-8'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

const error = (code: string, status: number, message: string) => ({ error: { code, status, message } });

/** The admin API: health without a token, everything else behind `Authorization: Bearer`. */
export function createAdminServer(gw: Gateway, token: string): http.Server {
  return http.createServer(async function adminApi(req, res) {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/healthz') return send(res, 200, { status: 'ok' });
      if (path === '/readyz') return gw.ready ? send(res, 200, { status: 'ready' }) : send(res, 503, { status: 'not ready' });
      if (!tokenMatches(req.headers.authorization, token)) {
        return send(res, 401, error('GH_ERR_UNAUTHORIZED', 401, 'A valid bearer token is required'));
      }
      const rt = gw.runtime;
      if (req.method === 'POST' && path === '/reload') {
        try {
          await gw.reload();
          return send(res, 200, { status: 'reloaded', file: rt.loaded.file });
        } catch (err) {
          return send(res, 422, error('GH_ERR_RELOAD_FAILED', 422, (err as Error).message));
        }
      }
      if (req.method !== 'GET' || path === '/reload') return send(res, 405, error('GH_ERR_METHOD_NOT_ALLOWED', 405, `${req.method} ${path} is not allowed`));
      switch (path) {
        case '/metrics':
          return send(res, 200, await gw.metrics.registry.metrics(), gw.metrics.registry.contentType);
        case '/config':
          return send(res, 200, { file: rt.loaded.file, config: redact(rt.loaded.config) });
        case '/routes':
          return send(res, 200, rt.router.routes.map((r) => ({ name: r.name, match: r.config.match, upstream: r.config.upstream ?? null, websocket: r.config.websocket, plugins: r.config.plugins.map((p) => Object.keys(p)[0]) })));
        case '/upstreams':
          return send(res, 200, Object.fromEntries([...rt.pools].map(([name, p]) => [name, { targets: p.targets.map((t) => t.url.href), openSockets: p.openSockets(), timeout: p.config.timeout }])));
        default:
          return send(res, 404, error('GH_ERR_NOT_FOUND', 404, `No admin endpoint ${path}`));
      }
    } catch (err) {
      send(res, 500, error('GH_ERR_INTERNAL', 500, (err as Error).message));
    }
  });
}
