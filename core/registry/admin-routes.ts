import { GatehouseError } from '../errors';
import type { AdminRequest, AdminRoute } from '../server/admin-router';
import type { ServiceRegistry } from './registry';

/** Consul's caps: a blocking read waits 5 minutes unless told, at most 10, plus up to 1/16 of jitter. */
const DEFAULT_WAIT_MS = 300000;
const MAX_WAIT_MS = 600000;
/** A comment line on an idle event stream, so proxies between do not time it out. */
const SSE_KEEPALIVE_MS = 15000;

/** `wait=` as Consul writes it: `500ms`, `30s`, `5m`, or bare seconds. @throws GatehouseError GH_ERR_BAD_REQUEST */
export function parseWait(text: string | null): number {
  if (text === null) return DEFAULT_WAIT_MS;
  const m = /^(\d{1,9})(ms|s|m)?$/.exec(text);
  if (!m) throw new GatehouseError('GH_ERR_BAD_REQUEST', `wait=${JSON.stringify(text)}: expected a duration such as 500ms, 30s or 5m`);
  const n = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60000 : 1000);
  return Math.min(n, MAX_WAIT_MS);
}

function limitOf(text: string | null): number | undefined {
  if (text === null) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new GatehouseError('GH_ERR_BAD_REQUEST', `limit=${JSON.stringify(text)}: expected 1 to 1000`);
  return n;
}

async function listServices(registry: ServiceRegistry, a: AdminRequest): Promise<void> {
  const q = a.query;
  const index = q.get('index');
  if (index !== null) {
    const n = Number(index);
    if (!Number.isInteger(n) || n < 0)
      throw new GatehouseError('GH_ERR_BAD_REQUEST', `index=${JSON.stringify(index)}: expected a whole number`);
    const wait = parseWait(q.get('wait'));
    const abort = new AbortController();
    a.req.once('close', () => abort.abort());
    await registry.waitPast(n, wait + Math.floor(Math.random() * (wait / 16)), abort.signal);
    if (abort.signal.aborted && a.res.destroyed) return;
  }
  // The index before the read: a change landing during it makes the next blocking read return at once.
  const at = registry.index;
  const page = await registry.list({
    prefix: q.get('prefix') ?? undefined,
    tag: q.get('tag') ?? undefined,
    cursor: q.get('cursor') ?? undefined,
    limit: limitOf(q.get('limit')),
  });
  a.json(200, page, { 'x-gatehouse-index': String(at) });
}

function notFound(name: string): GatehouseError {
  return new GatehouseError('GH_ERR_REGISTRY_NOT_FOUND', `No service named ${JSON.stringify(name.trim())}`);
}

/** Server-Sent Events: a snapshot, then one event per change, until the client leaves. */
async function events(registry: ServiceRegistry, a: AdminRequest): Promise<void> {
  const { res } = a;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  const services = [];
  for await (const s of registry.entries('')) services.push(s);
  res.write(`id: ${registry.index}\nevent: snapshot\ndata: ${JSON.stringify({ index: registry.index, services })}\n\n`);
  const unsubscribe = registry.subscribe((e) => res.write(`id: ${e.index}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`));
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), SSE_KEEPALIVE_MS);
  res.once('close', () => {
    unsubscribe();
    clearInterval(keepalive);
  });
}

/** The registry's admin endpoints (behind the admin token), or ones answering that it is off. */
export function registryRoutes(registry: ServiceRegistry | undefined): AdminRoute[] {
  const on = (handle: (r: ServiceRegistry, a: AdminRequest) => unknown) => (a: AdminRequest) => {
    if (!registry) throw new GatehouseError('GH_ERR_REGISTRY_OFF');
    return handle(registry, a);
  };
  return [
    { method: 'GET', path: '/registry/services', handle: on(listServices) },
    { method: 'GET', path: '/registry/events', handle: on(events) },
    {
      method: 'GET',
      path: '/registry/services/:name',
      handle: on(async function getService(r, a) {
        const s = await r.get(a.params.name);
        if (!s) throw notFound(a.params.name);
        a.json(200, s, { 'x-gatehouse-index': String(s.index) });
      }),
    },
    {
      method: 'PUT',
      path: '/registry/services/:name',
      handle: on(async function putService(r, a) {
        let body: unknown;
        try {
          body = JSON.parse((await a.readBody({ limit: 256 * 1024 })).toString('utf8'));
        } catch (err) {
          if (err instanceof GatehouseError) throw err;
          throw new GatehouseError('GH_ERR_REGISTRY_INVALID', `Invalid service entry: the body is not JSON (${(err as Error).message})`);
        }
        const s = await r.put(a.params.name, body);
        a.json(200, s, { 'x-gatehouse-index': String(s.index) });
      }),
    },
    {
      method: 'DELETE',
      path: '/registry/services/:name',
      handle: on(async function deleteService(r, a) {
        if (!(await r.delete(a.params.name))) throw notFound(a.params.name);
        a.json(200, { deleted: 1 });
      }),
    },
    {
      method: 'PUT',
      path: '/registry/services/:name/heartbeat',
      handle: on(async function heartbeat(r, a) {
        const s = await r.heartbeat(a.params.name);
        a.json(200, s, { 'x-gatehouse-index': String(s.index) });
      }),
    },
  ];
}
