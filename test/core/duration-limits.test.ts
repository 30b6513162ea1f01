import t from 'tap';
import { validateConfig } from '../../app';
import { coreSchema } from '../../core/config/schema';
import { MAX_DURATION_MS } from '../../core/plugin/contract';
import { builtinPlugins } from '../../plugins';

// Node's timers hold at most 2^31 - 1 ms; beyond it setTimeout fires after 1 ms, which is how
// `shutdownGrace: 2147483648` cut in-flight requests at once and a hash-rewrite timeout of that
// size answered 504 in 15 ms. Every duration in every schema is capped.
const LIMIT = 2147483647;

type Config = Record<string, any>;
const base = (): Config => ({
  upstreams: { app: { targets: ['http://127.0.0.1:1'] } },
  routes: [{ match: { path: '/' }, upstream: 'app' }],
});
const hashRewrite = (options: Record<string, unknown>): Config => ({
  upstreams: { archive: { targets: ['http://127.0.0.1:1'] } },
  routes: [{ match: { path: '/' }, plugins: [{ 'hash-rewrite': { metadata: 'http://127.0.0.1:2', archive: 'archive', ...options } }] }],
});

const webhook = (options: Record<string, unknown>): Config => ({
  routes: [{ match: { path: '/' }, plugins: [{ 'webhook-ingest': { preset: 'none', ...options } }] }],
});
const deliver = (o: Record<string, unknown>) => webhook({ deliver: { url: 'http://127.0.0.1:1', ...o } });

const jwtAuth = (options: Record<string, unknown>): Config => ({
  routes: [{ match: { path: '/' }, plugins: [{ 'jwt-auth': { algorithms: ['RS256'], jwksUrl: 'http://127.0.0.1:1/jwks', ...options } }] }],
});

const loadBalancer = (options: Record<string, unknown>): Config => ({
  upstreams: { workers: { targets: ['http://127.0.0.1:1'] } },
  routes: [{ match: { path: '/svc/' }, plugins: [{ 'load-balancer': { service: 'svc', upstream: 'workers', ...options } }] }],
});

const cases: { desc: string; path: string; config(ms: number): Config }[] = [
  {
    desc: 'server.timeouts.headers',
    path: '/server/timeouts/headers',
    config: (ms) => ({ ...base(), server: { timeouts: { headers: ms, request: 0 } } }),
  },
  {
    desc: 'server.timeouts.request',
    path: '/server/timeouts/request',
    config: (ms) => ({ ...base(), server: { timeouts: { request: ms } } }),
  },
  {
    desc: 'server.timeouts.keepAlive',
    path: '/server/timeouts/keepAlive',
    config: (ms) => ({ ...base(), server: { timeouts: { keepAlive: ms } } }),
  },
  { desc: 'server.timeouts.send', path: '/server/timeouts/send', config: (ms) => ({ ...base(), server: { timeouts: { send: ms } } }) },
  { desc: 'server.shutdownGrace', path: '/server/shutdownGrace', config: (ms) => ({ ...base(), server: { shutdownGrace: ms } }) },
  { desc: 'server.pluginTimeout', path: '/server/pluginTimeout', config: (ms) => ({ ...base(), server: { pluginTimeout: ms } }) },
  {
    desc: 'registry.deregisterAfterMs',
    path: '/registry/deregisterAfterMs',
    config: (ms) => ({ ...base(), registry: { deregisterAfterMs: ms } }),
  },
  { desc: 'registry.reapEveryMs', path: '/registry/reapEveryMs', config: (ms) => ({ ...base(), registry: { reapEveryMs: ms } }) },
  {
    desc: 'upstreams.<name>.timeout',
    path: '/upstreams/app/timeout',
    config: (ms) => ({ ...base(), upstreams: { app: { targets: ['http://127.0.0.1:1'], timeout: ms } } }),
  },
  {
    desc: 'upstreams.<name>.keepAliveMs',
    path: '/upstreams/app/keepAliveMs',
    config: (ms) => ({ ...base(), upstreams: { app: { targets: ['http://127.0.0.1:1'], keepAliveMs: ms } } }),
  },
  {
    desc: 'upstreams.<name>.queue.timeoutMs',
    path: '/upstreams/app/queue/timeoutMs',
    config: (ms) => ({ ...base(), upstreams: { app: { targets: ['http://127.0.0.1:1'], queue: { timeoutMs: ms } } } }),
  },
  {
    desc: 'upstreams.<name>.healthCheck.intervalMs',
    path: '/upstreams/app/healthCheck/intervalMs',
    config: (ms) => ({ ...base(), upstreams: { app: { targets: ['http://127.0.0.1:1'], healthCheck: { path: '/h', intervalMs: ms } } } }),
  },
  {
    desc: 'upstreams.<name>.healthCheck.timeoutMs',
    path: '/upstreams/app/healthCheck/timeoutMs',
    config: (ms) => ({ ...base(), upstreams: { app: { targets: ['http://127.0.0.1:1'], healthCheck: { path: '/h', timeoutMs: ms } } } }),
  },
  {
    desc: 'upstreams.<name>.outlier.ejectMs',
    path: '/upstreams/app/outlier/ejectMs',
    config: (ms) => ({ ...base(), upstreams: { app: { targets: ['http://127.0.0.1:1'], outlier: { ejectMs: ms } } } }),
  },
  { desc: 'hash-rewrite timeout', path: '/routes/0/plugins/0/hash-rewrite/timeout', config: (ms) => hashRewrite({ timeout: ms }) },
  {
    desc: 'hash-rewrite cache.ttl',
    path: '/routes/0/plugins/0/hash-rewrite/cache/ttl',
    config: (ms) => hashRewrite({ cache: { ttl: ms, negativeTtl: 0 } }),
  },
  {
    desc: 'hash-rewrite cache.negativeTtl',
    path: '/routes/0/plugins/0/hash-rewrite/cache/negativeTtl',
    config: (ms) => hashRewrite({ cache: { ttl: LIMIT, negativeTtl: ms } }),
  },
  {
    desc: 'webhook-ingest deliver.timeoutMs',
    path: '/routes/0/plugins/0/webhook-ingest/deliver/timeoutMs',
    config: (ms) => deliver({ timeoutMs: ms, leaseMs: LIMIT }),
  },
  ...(['retryAfterMaxMs', 'leaseMs', 'pollMs'] as const).map((key) => ({
    desc: `webhook-ingest deliver.${key}`,
    path: `/routes/0/plugins/0/webhook-ingest/deliver/${key}`,
    config: (ms: number) => deliver({ [key]: ms }),
  })),
  ...(
    [
      ['retry', 'maxAgeMs'],
      ['circuit', 'openMs'],
      ['dedupe', 'windowMs'],
    ] as const
  ).map(([group, key]) => ({
    desc: `webhook-ingest ${group}.${key}`,
    path: `/routes/0/plugins/0/webhook-ingest/${group}/${key}`,
    config: (ms: number) => webhook({ deliver: { url: 'http://127.0.0.1:1' }, [group]: { [key]: ms } }),
  })),
  ...(['jwksTimeoutMs', 'jwksCooldownMs', 'jwksCacheMaxAgeMs'] as const).map((key) => ({
    desc: `jwt-auth ${key}`,
    path: `/routes/0/plugins/0/jwt-auth/${key}`,
    config: (ms: number) => jwtAuth({ [key]: ms }),
  })),
  {
    desc: 'server.workerRestarts.windowMs',
    path: '/server/workerRestarts/windowMs',
    config: (ms) => ({ ...base(), server: { workerRestarts: { windowMs: ms } } }),
  },
  ...(['taskTimeoutMs', 'heartbeatMs', 'resultTtlMs', 'tombstoneMs', 'pollMs', 'claimWaitMs'] as const).map((key) => ({
    desc: `load-balancer ${key}`,
    path: `/routes/0/plugins/0/load-balancer/${key}`,
    // heartbeatMs must stay below taskTimeoutMs (validate): at the cap it is one less, beyond it as given.
    config: (ms: number) =>
      loadBalancer(key === 'heartbeatMs' ? { heartbeatMs: ms === LIMIT ? LIMIT - 1 : ms, taskTimeoutMs: LIMIT } : { [key]: ms }),
  })),
  {
    desc: 'load-balancer capacity.intervalMs',
    path: '/routes/0/plugins/0/load-balancer/capacity/intervalMs',
    config: (ms) => loadBalancer({ capacity: { intervalMs: ms } }),
  },
];

/** The error text of validateConfig, or '' when the config is accepted. */
function problems(config: Config): string {
  try {
    validateConfig(config);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

t.equal(MAX_DURATION_MS, LIMIT, 'the cap is 2^31 - 1 ms');

for (const c of cases) {
  t.test(c.desc, async (t) => {
    t.equal(problems(c.config(LIMIT)), '', `${LIMIT} is accepted`);
    const refused = problems(c.config(LIMIT + 1));
    t.match(
      refused,
      `${c.path}: found ${LIMIT + 1}, expected it to be <= ${LIMIT}`,
      `${LIMIT + 1} is refused, naming the key and the limit`,
    );
    t.match(problems(c.config(1e12)), `${c.path}: found 1000000000000`, 'so is a far larger value');
  });
}

/** Every integer property whose name, description or parent says it is a duration, with its JSON path. */
function durations(node: unknown, path: string, out: { path: string; maximum: unknown }[]): void {
  if (!node || typeof node !== 'object') return;
  const n = node as Record<string, any>;
  for (const [key, child] of Object.entries(n.properties ?? {})) {
    const c = child as Record<string, any>;
    const duration =
      /timeout|ttl|ms$|grace|interval|delay|every/i.test(key) ||
      /timeouts$/.test(path) ||
      /millisecond|\bms\b|\btime\b/i.test(c.description ?? '');
    if (c.type === 'integer' && duration) out.push({ path: `${path}/${key}`, maximum: c.maximum });
    durations(c, `${path}/${key}`, out);
  }
  if (n.additionalProperties && typeof n.additionalProperties === 'object') durations(n.additionalProperties, `${path}/*`, out);
  if (n.items && typeof n.items === 'object') durations(n.items, `${path}/0`, out);
}

t.test('every duration key in core and the built-in plugin schemas is capped (a new one cannot be forgotten)', async (t) => {
  const found: { path: string; maximum: unknown }[] = [];
  durations(coreSchema, '', found);
  for (const p of builtinPlugins) durations(p.schema, `<${p.name}>`, found);
  t.equal(found.length, cases.length, `found ${found.length} duration keys: ${found.map((d) => d.path).join(', ')}`);
  for (const d of found) t.equal(d.maximum, LIMIT, `${d.path}: maximum ${LIMIT}`);
  const tested = new Set(
    cases.map((c) =>
      c.path
        .replace(/^\/routes\/0\/plugins\/0\/hash-rewrite/, '<hash-rewrite>')
        .replace(/^\/routes\/0\/plugins\/0\/webhook-ingest/, '<webhook-ingest>')
        .replace(/^\/routes\/0\/plugins\/0\/jwt-auth/, '<jwt-auth>')
        .replace(/^\/routes\/0\/plugins\/0\/load-balancer/, '<load-balancer>')
        .replace('/upstreams/app/', '/upstreams/*/'),
    ),
  );
  for (const d of found) t.ok(tested.has(d.path), `${d.path} has a case in the table above`);
});
