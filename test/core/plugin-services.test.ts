import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../../app';
import { expectError } from '../helpers/errors';
import { request, testLogger } from '../helpers/servers';
import { tempDir } from '../helpers/gatehouse-process';

const TOKEN = 'services-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

/**
 * A probe plugin with a task, admin endpoints and a readiness check. What its tasks do is
 * recorded in globalThis.__ghServices: the number running now and the most ever seen at once.
 */
const PROBE = `
const g = globalThis;
module.exports = {
  name: 'service-probe',
  schema: { type: 'object' },
  create(o, scope) {
    g.__ghServices ||= { running: 0, max: 0, runs: 0, generations: [] };
    const s = g.__ghServices;
    scope.task('loop', async (signal) => {
      s.running++;
      s.max = Math.max(s.max, s.running);
      s.generations.push(o.generation);
      try {
        await new Promise((resolve) => {
          if (signal.aborted) return resolve();
          // Settles a little after the abort, as a real loop finishing its batch would.
          signal.addEventListener('abort', () => setTimeout(resolve, 20));
        });
      } finally {
        s.running--;
      }
    });
    if (o.failing) scope.task('flaky', () => { s.runs++; throw new Error('task exploded'); });
    if (o.every) scope.task('tick', () => { s.runs++; }, { every: o.every });
    scope.admin({ method: 'GET', path: '/state', handle: (a) => a.json(200, { instance: scope.instance, generation: o.generation }) });
    scope.admin({ method: 'PUT', path: '/items/:name', handle: async (a) => a.json(200, { name: a.params.name, body: await a.readJson() }) });
    scope.admin({ method: 'GET', path: '/boom', handle: () => { throw new Error('admin exploded'); } });
    scope.ready(() => (o.notReady ? o.notReady : true));
    return {};
  },
};
`;

const g = globalThis as unknown as { __ghServices?: { running: number; max: number; runs: number; generations: number[] } };

async function fixture(
  t: Test,
  options: Record<string, unknown> = {},
): Promise<{ gw: Gateway; admin: string; config: (o: Record<string, unknown>) => Record<string, unknown> }> {
  g.__ghServices = undefined;
  const dir = tempDir(t);
  const plugin = join(dir, 'service-probe.js');
  writeFileSync(plugin, PROBE);
  const config = (o: Record<string, unknown>) => ({
    server: { http: { port: 0, host: '127.0.0.1' }, pluginTimeout: 2000 },
    admin: { port: 0, token: TOKEN },
    routes: [{ match: { path: '/' }, plugins: [{ [plugin]: o }, { respond: { status: 200, body: 'ok' } }] }],
  });
  const gw = await createGateway({ config: config({ generation: 0, ...options }), logger: testLogger() });
  await gw.listen();
  t.teardown(() => gw.close(100));
  return { gw, admin: `http://127.0.0.1:${gw.addresses.admin!.port}`, config };
}

t.test('a task and an admin route survive 20 reloads, never two loops at once', async (t) => {
  const { gw, admin, config } = await fixture(t);
  for (let i = 1; i <= 20; i++) {
    (gw as unknown as { options: { config: unknown } }).options.config = config({ generation: i });
    await gw.reload();
    const state = await request(`${admin}/plugins/service-probe%231/state`, { headers: auth });
    t.equal(JSON.parse(state.body).generation, i, `reload ${i}: the admin route is the new generation's`);
  }
  const s = g.__ghServices!;
  t.equal(s.max, 1, 'never more than one task loop running');
  t.same(
    s.generations,
    Array.from({ length: 21 }, (_, i) => i),
    'each generation ran its loop once, in order',
  );
  t.equal((await request(`${admin}/plugins/service-probe%231/state`)).status, 401, 'the route answers 401 without the token');
  await gw.close(100);
  t.equal(s.running, 0, 'the last loop settled on close');
});

t.test('plugin admin endpoints', async (t) => {
  const { gw, admin } = await fixture(t);
  const base = `${admin}/plugins/service-probe%231`;
  const cases: {
    desc: string;
    path: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    status: number;
    json?: unknown;
    code?: string;
  }[] = [
    { desc: 'a GET endpoint', path: '/state', headers: auth, status: 200, json: { instance: 'service-probe#1', generation: 0 } },
    {
      desc: 'a :param and a JSON body',
      path: '/items/a%20b',
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"x":1}',
      status: 200,
      json: { name: 'a b', body: { x: 1 } },
    },
    {
      desc: "a malformed body is the caller's 400",
      path: '/items/a',
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{',
      status: 400,
      code: 'GH_ERR_BODY_INVALID',
    },
    { desc: 'without the token', path: '/state', status: 401, code: 'GH_ERR_UNAUTHORIZED' },
    { desc: 'with a wrong token', path: '/state', headers: { authorization: 'Bearer nope' }, status: 401, code: 'GH_ERR_UNAUTHORIZED' },
    { desc: 'another method', path: '/state', method: 'DELETE', headers: auth, status: 405, code: 'GH_ERR_METHOD_NOT_ALLOWED' },
    { desc: 'an unknown endpoint of the plugin', path: '/nope', headers: auth, status: 404, code: 'GH_ERR_NOT_FOUND' },
    { desc: 'a throwing endpoint is a 500 naming the plugin', path: '/boom', headers: auth, status: 500, code: 'GH_ERR_PLUGIN_FAILED' },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const res = await request(`${base}${c.path}`, { method: c.method ?? 'GET', headers: c.headers, body: c.body });
      t.equal(res.status, c.status, res.body.slice(0, 120));
      if (c.json) t.same(JSON.parse(res.body), c.json);
      if (c.code) expectError(t, res, c.code);
    });
  }
  t.match(
    await gw.metrics.registry.metrics(),
    /gatehouse_plugin_errors_total\{plugin="service-probe",hook="admin",instance="service-probe#1"\} 1/,
    'the failing endpoint is counted once',
  );
  t.equal((await request(`${admin}/plugins/other%231/state`, { headers: auth })).status, 404, 'an instance that does not exist');
});

t.test('readiness checks', async (t) => {
  const cases: { desc: string; options: Record<string, unknown>; status: number; reasons?: unknown }[] = [
    { desc: 'ready when every check says so', options: {}, status: 200 },
    {
      desc: '503 with the reasons otherwise',
      options: { notReady: 'queue not open yet' },
      status: 503,
      reasons: [{ plugin: 'service-probe#1', reason: 'queue not open yet' }],
    },
  ];
  for (const c of cases) {
    t.test(c.desc, async (t) => {
      const { admin } = await fixture(t, c.options);
      const res = await request(`${admin}/readyz`);
      t.equal(res.status, c.status);
      if (c.reasons) t.same(JSON.parse(res.body).reasons, c.reasons);
    });
  }
});

t.test('tasks: a failing run is retried after a backoff, counted; a periodic one repeats', async (t) => {
  const cases: { desc: string; options: Record<string, unknown>; waitMs: number; runs: [number, number]; metric: RegExp }[] = [
    {
      desc: 'a failing task runs again after 1 s, not in a tight loop',
      options: { failing: true },
      waitMs: 1300,
      runs: [2, 2],
      metric: /gatehouse_plugin_task_runs_total\{plugin="service-probe",instance="service-probe#1",task="flaky",result="failed"\} 2/,
    },
    {
      desc: 'every: 100 ms repeats',
      options: { every: 100 },
      waitMs: 550,
      runs: [4, 7],
      metric: /gatehouse_plugin_task_runs_total\{plugin="service-probe",instance="service-probe#1",task="tick",result="ok"\} [4-7]/,
    },
  ];
  for (const c of cases) {
    t.test(c.desc, async (t) => {
      const { gw } = await fixture(t, c.options);
      await new Promise((r) => setTimeout(r, c.waitMs));
      const runs = g.__ghServices!.runs;
      t.ok(runs >= c.runs[0] && runs <= c.runs[1], `${runs} runs in ${c.waitMs} ms`);
      const text = await gw.metrics.registry.metrics();
      t.match(text, c.metric);
      if (c.options.failing)
        t.match(
          text,
          /gatehouse_plugin_errors_total\{plugin="service-probe",hook="task",instance="service-probe#1"\} 2/,
          'failures counted as plugin errors',
        );
    });
  }
});

t.test('scope services refuse bad declarations in create', async (t) => {
  const dir = tempDir(t);
  const cases: { desc: string; code: string; message: RegExp }[] = [
    { desc: 'a task declared twice', code: "scope.task('a', () => {}); scope.task('a', () => {});", message: /declared twice/ },
    { desc: 'a zero period', code: "scope.task('a', () => {}, { every: 0 });", message: /every must be/ },
    { desc: 'an admin path without a slash', code: "scope.admin({ method: 'GET', path: 'x', handle() {} });", message: /admin route/ },
  ];
  for (const [i, c] of cases.entries()) {
    t.test(c.desc, async (t) => {
      const file = join(dir, `bad-${i}.js`);
      writeFileSync(file, `module.exports = { name: 'bad', schema: { type: 'object' }, create(o, scope) { ${c.code} return {}; } };`);
      await t.rejects(createGateway({ config: { routes: [{ plugins: [{ [file]: {} }] }] }, logger: testLogger() }), {
        code: 'GH_ERR_PLUGIN_LOAD',
        message: c.message,
      });
    });
  }
});

t.test('an id: in the declaration names the instance (logs, metrics, admin path)', async (t) => {
  g.__ghServices = undefined;
  const dir = tempDir(t);
  const plugin = join(dir, 'service-probe.js');
  writeFileSync(plugin, PROBE);
  const gw = await createGateway({
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      admin: { port: 0, token: TOKEN },
      routes: [{ plugins: [{ [plugin]: { generation: 7 }, id: 'edge' }, { respond: {} }] }],
    },
    logger: testLogger(),
  });
  await gw.listen();
  t.teardown(() => gw.close(100));
  const admin = `http://127.0.0.1:${gw.addresses.admin!.port}`;
  const res = await request(`${admin}/plugins/edge/state`, { headers: auth });
  t.same(JSON.parse(res.body), { instance: 'edge', generation: 7 }, 'scope.instance is the id, and the admin path uses it');
  t.match(
    await gw.metrics.registry.metrics(),
    /gatehouse_plugin_tasks_running\{plugin="service-probe",instance="edge",task="loop"\} 1/,
    'metrics are labelled with it',
  );
});

t.test('reloads at the same time run one after the other: one generation is left running', async (t) => {
  const { gw, config } = await fixture(t);
  const opts = (gw as unknown as { options: { config: unknown } }).options;
  opts.config = config({ generation: 1 });
  const first = gw.reload();
  opts.config = config({ generation: 2 });
  const second = gw.reload();
  await Promise.all([first, second]);
  await new Promise((r) => setTimeout(r, 100)); // the retired generations' stops
  const s = g.__ghServices!;
  t.equal(s.max, 1, 'never two task loops at once');
  t.equal(s.running, 1, 'exactly one loop runs afterwards: no generation was left behind');
  t.same(s.generations, [0, 2, 2], 'each reload replaced the generation before it, in order');
});
