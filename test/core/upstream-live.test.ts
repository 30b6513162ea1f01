import http from 'node:http';
import t from 'tap';
import { definePlugin } from '../../app';
import { liveAgents } from '../../core/upstream/agent';
import { request, testLogger } from '../helpers/servers';
import { fileGateway, namedBackend, providerPlugin, tally } from '../helpers/upstream-fixtures';
import { createGateway } from '../../app';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

t.test('a reload applies the config targets to the pool the gateway keeps', async (t) => {
  const a = await namedBackend(t, 'a');
  const b = await namedBackend(t, 'b');
  const cases = [
    { desc: 'first config: a only', targets: [a.url], want: { a: 6 } },
    { desc: 'reloaded: a and b, round robin', targets: [a.url, b.url], want: { a: 3, b: 3 } },
    { desc: 'reloaded: b in object form', targets: [{ url: b.url, weight: 2 }], want: { b: 6 } },
  ];
  const config = (targets: unknown[]) => ({ upstreams: { be: { targets } }, routes: [{ match: { path: '/' }, upstream: 'be' }] });
  const { gw, url, write } = await fileGateway(t, config(cases[0].targets));
  const pool = gw.upstreams.get('be');
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      write(config(c.targets));
      await gw.reload();
      t.equal(gw.upstreams.get('be'), pool, 'the same pool survives the reload');
      t.same(await tally(`${url}/`, 6, { concurrency: 1 }), c.want);
    });
  }
});

t.test('a plugin that provides an upstream sets its targets at run time', async (t) => {
  const a = await namedBackend(t, 'a');
  const b = await namedBackend(t, 'b');
  const provider = providerPlugin(['svc']);
  const { gw, url } = await fileGateway(
    t,
    { upstreams: { svc: {} }, plugins: [{ 'test-provider': {} }], routes: [{ match: { path: '/' }, upstream: 'svc' }] },
    [provider.definition],
  );
  const scope = provider.scope();
  const seen: (number | undefined)[] = [];
  scope.upstreams.watch('svc', (info) => seen.push(info?.targets.length));
  const cases = [
    { desc: 'none set yet: 503 GH_ERR_UPSTREAM_NO_TARGETS', set: undefined, want: { 'status 503': 4 } },
    { desc: 'one target', set: [a.url], want: { a: 4 } },
    { desc: 'two targets', set: [a.url, b.url], want: { a: 2, b: 2 } },
    { desc: 'a removed', set: [b.url], want: { b: 4 } },
    { desc: 'all removed', set: [], want: { 'status 503': 4 } },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      if (c.set) scope.upstreams.set('svc', c.set);
      t.same(await tally(`${url}/`, 4, { concurrency: 1 }), c.want);
      t.same(
        scope.upstreams.get('svc')?.targets.map((x) => x.url),
        (c.set ?? []).map((u) => `${u}/`),
        'get() lists the live targets',
      );
    });
  }
  t.same(seen, [1, 2, 1, 0], 'watch saw every change');
  const res = await request(`${url}/`);
  t.equal(JSON.parse(res.body).error.code, 'GH_ERR_UPSTREAM_NO_TARGETS');
  t.throws(() => scope.upstreams.set('other', [a.url]), /does not provide upstream "other"/, 'only provided upstreams can be set');
  t.throws(() => scope.upstreams.set('svc', ['ftp://x']), /not an http\(s\) or ws\(s\) target/, 'invalid targets refused');
  t.same(scope.upstreams.list(), ['svc']);
  t.ok(scope.upstreams.includes('svc'));
  scope.upstreams.set('svc', [a.url]);
  await gw.reload();
  t.same(await tally(`${url}/`, 2, { concurrency: 1 }), { a: 2 }, 'a reload keeps what the plugin set');
});

t.test('config checks for provided upstreams', async (t) => {
  const provider = providerPlugin(['svc']);
  const cases = [
    {
      desc: 'no targets and no provider',
      upstreams: { svc: {} },
      plugins: [],
      error: /\/upstreams\/svc: no targets, and no declared plugin provides them/,
    },
    {
      desc: 'a provider of an undeclared upstream',
      upstreams: { be: { targets: ['http://127.0.0.1:9'] } },
      plugins: [{ 'test-provider': {} }],
      error: /provides upstream "svc", which is not declared/,
    },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      await t.rejects(
        createGateway({
          config: { upstreams: c.upstreams, plugins: c.plugins, routes: [{ match: { path: '/' }, upstream: Object.keys(c.upstreams)[0] }] },
          logger: testLogger(),
          plugins: [provider.definition],
        }),
        { code: 'GH_ERR_CONFIG_INVALID', message: c.error },
      );
    });
  }
});

t.test('a removed target finishes its in-flight request; new ones go elsewhere', async (t) => {
  const slow = await namedBackend(t, 'slow', { delayMs: 400 });
  const fast = await namedBackend(t, 'fast');
  const provider = providerPlugin(['svc']);
  const { url } = await fileGateway(
    t,
    { upstreams: { svc: {} }, plugins: [{ 'test-provider': {} }], routes: [{ match: { path: '/' }, upstream: 'svc' }] },
    [provider.definition],
  );
  const up = provider.scope().upstreams;
  up.set('svc', [slow.url]);
  const inflight = request(`${url}/`);
  while (slow.count === 0) await new Promise((r) => setTimeout(r, 5));
  up.set('svc', [fast.url]);
  t.same(await tally(`${url}/`, 3, { concurrency: 1 }), { fast: 3 }, 'new requests on the new target at once');
  const res = await inflight;
  t.equal(res.body, 'slow', 'the in-flight request finished on the removed target');
});

t.test('1,000 distinct targets come and go: agents and timers are released', async (t) => {
  const be = await namedBackend(t, 'be');
  const provider = providerPlugin(['svc']);
  const { url } = await fileGateway(
    t,
    { upstreams: { svc: {} }, plugins: [{ 'test-provider': {} }], routes: [{ match: { path: '/' }, upstream: 'svc' }] },
    [provider.definition],
  );
  const up = provider.scope().upstreams;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  t.teardown(() => agent.destroy());
  up.set('svc', [`${be.url}/start`]);
  await request(`${url}/`);
  const agentsBefore = liveAgents();
  const timersBefore = timers();
  let failed = 0;
  for (let i = 0; i < 1000; i++) {
    up.set('svc', [`${be.url}/t${i}`]);
    const status = await new Promise<number>((resolve) => {
      http.get(`${url}/`, { agent }, (res) => res.resume().on('end', () => resolve(res.statusCode!)));
    });
    if (status !== 200) failed++;
  }
  t.equal(failed, 0, 'every request answered');
  t.equal(be.count, 1001, 'each reached the backend');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(liveAgents(), agentsBefore, 'one live agent, as before');
  t.ok(timers() <= timersBefore + 2, `no timers left behind (${timersBefore} → ${timers()})`);
});

t.test('ad-hoc pools for ctx.target are bounded', async (t) => {
  const be = await namedBackend(t, 'be');
  const target = definePlugin<Record<string, never>>({
    name: 'test-target',
    schema: { type: 'object', additionalProperties: false },
    create: () => ({
      handle(ctx, next) {
        ctx.target = `${be.url}/${ctx.query.get('i')}`;
        return next();
      },
    }),
  });
  const agentsBefore = liveAgents();
  const { gw, url } = await startGatewayWith(t, target);
  for (let i = 0; i < 400; i++) t.equal((await request(`${url}/?i=${i}`)).status, 200, `target ${i}`);
  t.ok(gw.upstreams.adHocCount() <= 256, `at most 256 ad-hoc pools (${gw.upstreams.adHocCount()})`);
  t.ok(liveAgents() - agentsBefore <= 256, `their agents are closed beyond that (${liveAgents() - agentsBefore})`);
});

async function startGatewayWith(t: { teardown(fn: () => unknown): void }, plugin: ReturnType<typeof definePlugin>) {
  const gw = await createGateway({
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      log: { accessLog: false },
      routes: [{ match: { path: '/' }, plugins: [{ [plugin.name]: {} }] }],
    },
    logger: testLogger(),
    plugins: [plugin],
  });
  await gw.listen();
  t.teardown(() => gw.close(100));
  return { gw, url: `http://127.0.0.1:${gw.addresses.http!.port}` };
}

t.test('targets added and removed under load: zero failed requests', async (t) => {
  const backends = await Promise.all(['a', 'b', 'c'].map((n) => namedBackend(t, n, { delayMs: 2 })));
  const provider = providerPlugin(['svc']);
  const { url } = await fileGateway(
    t,
    { upstreams: { svc: {} }, plugins: [{ 'test-provider': {} }], routes: [{ match: { path: '/' }, upstream: 'svc' }] },
    [provider.definition],
  );
  const up = provider.scope().upstreams;
  const sets = [[0], [0, 1], [1], [1, 2], [2, 0], [0, 1, 2]];
  up.set('svc', [backends[0].url]);
  let i = 0;
  const churn = setInterval(
    () =>
      up.set(
        'svc',
        sets[i++ % sets.length].map((k) => backends[k].url),
      ),
    15,
  );
  const got = await tally(`${url}/`, 600, { concurrency: 16 });
  clearInterval(churn);
  t.same(
    Object.keys(got).filter((k) => k.startsWith('status')),
    [],
    `no failed request (${JSON.stringify(got)}, ${i} changes)`,
  );
  t.ok(i >= 5, 'the targets changed while requests ran');
  t.equal(Object.keys(got).length, 3, 'every backend served some');
});
