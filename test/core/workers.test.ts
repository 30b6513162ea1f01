import t from 'tap';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { request, startBackend } from '../helpers/servers';
import { tempDir, until } from '../helpers/gatehouse-process';
import { metricSum, startCluster } from '../helpers/cluster';

/**
 * `server.workers: 2` with real processes: a primary and two node:cluster workers sharing the
 * proxy port. What each worker serves, counts and runs, seen from outside.
 */

/** A custom plugin that records which process runs its tasks and leaves a store entry per request. */
const PROBE = `
const fs = require('node:fs');
const path = require('node:path');
module.exports = {
  name: 'probe',
  schema: { type: 'object', additionalProperties: false, properties: { dir: { type: 'string' } }, required: ['dir'] },
  create(o, scope) {
    const store = scope.store;
    let n = 0;
    const note = (file) => async () => { fs.appendFileSync(path.join(o.dir, file), process.pid + '\\n'); };
    scope.task('once-per-store', note('singleton.log'), { every: 100, singleton: true });
    scope.task('per-worker', note('each.log'), { every: 100 });
    scope.admin({ method: 'GET', path: '/hits', async handle(a) {
      const page = await store.kv.list('hit/', { limit: 1000 });
      a.json(200, { hits: page.entries.length });
    } });
    return { async handle(ctx, next) { await store.kv.set('hit/' + process.pid + '-' + ++n, 1); await next(); } };
  },
};
`;

const pids = (file: string) => (existsSync(file) ? [...new Set(readFileSync(file, 'utf8').trim().split('\n').map(Number))] : []);

t.test('two workers serve the port; each names itself; /metrics sums them', async (t) => {
  const be = await startBackend(t, (_req, res) => res.end('ok'));
  const c = await startCluster(t, {
    server: { workerHeader: true },
    log: { level: 'info', accessLog: true },
    upstreams: { app: { targets: [be.url] } },
    routes: [{ name: 'app', match: { path: '/' }, upstream: 'app' }],
  });
  const N = 40;
  const seen = new Map<string, number>();
  for (let i = 0; i < N; i++) {
    // No keep-alive: each request is a new connection, handed to the workers round robin.
    const res = await request(`${c.url}/r${i}`);
    t.equal(res.status, 200);
    const w = String(res.headers['gatehouse-worker']);
    seen.set(w, (seen.get(w) ?? 0) + 1);
  }
  const ids = c.started().map((s) => String(s.id));
  t.same([...seen.keys()].sort(), ids.sort(), 'the header names both workers, and only them');
  for (const [w, n] of seen) t.ok(n >= N / 4, `worker ${w} served ${n} of ${N} (round robin, not one taking most)`);
  await until(async () => c.gh.logs.filter((l) => l.access).length === N, 30000);
  const access = c.gh.logs.filter((l) => l.access);
  t.same([...new Set(access.map((l) => String(l.worker)))].sort(), ids.sort(), 'the access log names the worker on each line');
  t.ok(
    c.gh.logs.every((l) => l.worker !== undefined),
    'every log line has a worker field (an id, or "primary")',
  );
  // Counted when each response closes, which may be just after the client has it.
  let text = '';
  await until(async () => {
    text = (await c.admin('/metrics')).body;
    return metricSum(text, 'gatehouse_requests_total') === N;
  }, 30000);
  t.equal(metricSum(text, 'gatehouse_requests_total'), N, 'gatehouse_requests_total summed over the workers is what was sent');
  t.equal(metricSum(text, 'gatehouse_request_duration_seconds_count'), N, 'and so is the histogram count');
  t.match(text, /gatehouse_workers\{state="running"\} 2/);
  t.match(text, /gatehouse_worker_restarts_total 0/);
  const ready = await request(`${c.url.replace(String(c.gh.port), String(c.gh.adminPort))}/readyz`);
  t.equal(ready.status, 200, ready.body);
  t.same(
    JSON.parse(ready.body).workers.sort(),
    c
      .started()
      .map((s) => s.id)
      .sort(),
  );
  const ups = JSON.parse((await c.admin('/upstreams')).body);
  t.same(Object.keys(ups).sort(), ids.sort(), '/upstreams answers per worker id');
  t.ok(ups[ids[0]].app.targets[0].picks > 0);
});

t.test(
  'singleton tasks run in one worker, others in each, none in the primary; store-backed admin routes answer from the primary',
  async (t) => {
    const be = await startBackend(t, (_req, res) => res.end('ok'));
    const out = tempDir(t);
    const c = await startCluster(
      t,
      {
        log: { level: 'info', accessLog: false },
        registry: {},
        upstreams: { app: { targets: [be.url] } },
        routes: [{ name: 'app', match: { path: '/' }, upstream: 'app', plugins: [{ './probe.js': { dir: out }, id: 'probe' }] }],
      },
      { 'probe.js': PROBE },
    );
    const workers = c.started().map((s) => s.pid);
    await until(async () => pids(join(out, 'each.log')).length === 2 && pids(join(out, 'singleton.log')).length >= 1, 30000);
    // Long enough for a second holder to have started had the lock not kept it out (every 100 ms).
    await new Promise((r) => setTimeout(r, 1500));
    const single = pids(join(out, 'singleton.log'));
    t.equal(single.length, 1, `the singleton ran in one process (${single})`);
    t.ok(workers.includes(single[0]), 'a worker');
    t.same(pids(join(out, 'each.log')).sort(), [...workers].sort(), 'the other task runs in each worker');
    t.notOk(pids(join(out, 'each.log')).includes(c.gh.child.pid!), 'and not in the primary');
    const metrics = (await c.admin('/metrics')).body;
    t.equal(metricSum(metrics, 'gatehouse_plugin_task_leader'), 1, 'gatehouse_plugin_task_leader sums to one holder');

    for (let i = 0; i < 10; i++) t.equal((await request(`${c.url}/x${i}`)).status, 200);
    const hits = await c.admin('/plugins/probe/hits');
    t.equal(hits.status, 200, hits.body);
    t.equal(JSON.parse(hits.body).hits, 10, "a plugin's admin route on the primary reads what the workers stored");
    const put = await c.admin('/registry/services/svc', {
      method: 'PUT',
      body: JSON.stringify({ targets: [be.url] }),
    });
    t.equal(put.status, 200, put.body);
    const got = await c.admin('/registry/services/svc');
    t.equal(got.status, 200, got.body);
    t.equal((await c.admin('/routes')).status, 200);
    t.match(JSON.parse((await c.admin('/config')).body).config.server, { workers: 2 });
  },
);

t.test('SIGUSR1 on the primary makes every worker reopen the access log file', async (t) => {
  const be = await startBackend(t, (_req, res) => res.end('ok'));
  const c = await startCluster(t, {
    server: { workerHeader: true },
    log: { level: 'info', accessLog: { file: 'access.log' } },
    upstreams: { app: { targets: [be.url] } },
    routes: [{ match: { path: '/' }, upstream: 'app' }],
  });
  const file = join(c.dir, 'access.log');
  const workersIn = (f: string) =>
    new Set(
      readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).worker),
    );
  for (let i = 0; i < 6; i++) await request(`${c.url}/before`);
  await until(async () => existsSync(file) && workersIn(file).size === 2, 30000);
  renameSync(file, `${file}.1`);
  process.kill(c.gh.child.pid!, 'SIGUSR1');
  // Each worker reopens when the primary's message reaches it; until then it writes to the moved file.
  await until(async () => {
    for (let i = 0; i < 4; i++) await request(`${c.url}/after`);
    return existsSync(file) && workersIn(file).size === 2;
  }, 15000);
  t.same(
    [...workersIn(file)].sort(),
    c
      .started()
      .map((s) => s.id)
      .sort(),
    'both workers write the new file',
  );
  t.same(
    [...workersIn(`${file}.1`)].sort(),
    c
      .started()
      .map((s) => s.id)
      .sort(),
    'and wrote the old one before',
  );
});
