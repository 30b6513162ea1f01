import 'reflect-metadata';
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { container as rootContainer } from 'tsyringe';
import { createGateway, TOKENS, type Gateway } from '../../app';
import { expectError } from '../helpers/errors';
import { raw, request, startBackend, testLogger } from '../helpers/servers';
import { tempDir } from '../helpers/gatehouse-process';

/**
 * Probe plugins are real JS files loaded by absolute path. Their behaviour comes from
 * their options; every call is recorded as "<id>:<event>" in globalThis.__ghProbe.
 */
const PROBE = (name: string) => `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
module.exports = {
  name: ${JSON.stringify(name)},
  schema: { type: 'object' },
  create(o, scope) {
    const rec = (e) => globalThis.__ghProbe.push((o.id || ${JSON.stringify(name)}) + ':' + e);
    rec('create');
    (globalThis.__ghScopes ||= {})[o.id || ${JSON.stringify(name)}] = scope;
    if (o.createThrows) throw new Error(o.createThrows);
    const hits = o.metric ? scope.metrics.counter({ name: o.metric, help: 'probe hits' }) : undefined;
    if (o.register) scope.container.register(o.register, { useValue: o.id });
    return {
      async start() { rec('start'); if (o.startThrows) throw new Error(o.startThrows); },
      async stop() { rec('stop'); },
      async handle(ctx, next) {
        rec('in');
        if (hits) hits.inc();
        switch (o.handle) {
          case 'throw': throw new Error('handle exploded');
          case 'reject': await sleep(10); throw new Error('handle rejected later');
          case 'next-twice-sequential': await next(); await next(); return;
          case 'next-twice-concurrent': { const first = next(); await next(); await first; return; }
          case 'wait': await sleep(50); await next(); rec('out'); return;
          case 'json': ctx.json(201, { answeredBy: ${JSON.stringify(name)} }); return;
          case 'upstream': ctx.upstream = o.upstream; break;
        }
        await next();
        rec('out');
      },
      onProxyRequest: o.requestHeader ? (ctx, proxyReq) => proxyReq.setHeader(o.requestHeader, 'from-' + ${JSON.stringify(name)}) : undefined,
      onProxyResponse: o.responseHeader ? (ctx, proxyRes) => { proxyRes.headers[o.responseHeader] = 'from-' + ${JSON.stringify(name)}; } : undefined,
    };
  },
};
`;

type Decl = Record<string, Record<string, unknown>>;
const g = globalThis as unknown as { __ghProbe: string[]; __ghScopes: Record<string, any> };

async function fixture(t: Test) {
  const dir = tempDir(t);
  let n = 0;
  /** A probe plugin declaration: a fresh file per call, so every test loads its own module. */
  const probe = (name: string, options: Record<string, unknown> = {}): Decl => {
    const file = join(dir, `${name}-${n++}.js`);
    writeFileSync(file, PROBE(name));
    return { [file]: options };
  };
  const a = await startBackend(t);
  const b = await startBackend(t, (_req, res) => res.writeHead(200, { 'x-backend': 'b' }).end('from b'));
  const hits = { a: 0 };
  a.server.on('request', () => hits.a++);
  g.__ghProbe = [];
  g.__ghScopes = {};
  const config = (routePlugins: Decl[], globalPlugins: Decl[] = []) => ({
    server: { http: { port: 0, host: '127.0.0.1' } },
    log: { level: 'silent', accessLog: false },
    upstreams: { a: { targets: [a.url] }, b: { targets: [b.url] } },
    plugins: globalPlugins,
    routes: [{ match: { path: '/' }, upstream: 'a', plugins: routePlugins }],
  });
  const start = async (routePlugins: Decl[], globalPlugins: Decl[] = []): Promise<{ gw: Gateway; url: string; port: number }> => {
    const gw = await createGateway({ config: config(routePlugins, globalPlugins), logger: testLogger() });
    await gw.listen();
    t.teardown(() => gw.close(100));
    const port = gw.addresses.http!.port;
    return { gw, port, url: `http://127.0.0.1:${port}` };
  };
  return { probe, config, start, hits };
}

const events = (id: string) => g.__ghProbe.filter((e) => e.startsWith(`${id}:`)).map((e) => e.slice(id.length + 1));

t.test('startup failures name the plugin and the cause, and every created plugin is stopped', async (t) => {
  const cases = [
    {
      name: 'create() throws',
      plugins: (p: (n: string, o?: Record<string, unknown>) => Decl) => [
        p('early', { id: 'early' }),
        p('bad-create', { id: 'bad', createThrows: 'no licence key' }),
        p('late', { id: 'late' }),
      ],
      code: 'GH_ERR_PLUGIN_LOAD',
      message: /plugin "bad-create".*no licence key/,
      expect: { early: ['create', 'stop'], bad: ['create'], late: [] },
    },
    {
      name: 'start() throws',
      plugins: (p: (n: string, o?: Record<string, unknown>) => Decl) => [
        p('early', { id: 'early' }),
        p('bad-start', { id: 'bad', startThrows: 'port in use' }),
        p('late', { id: 'late' }),
      ],
      code: 'GH_ERR_PLUGIN_START',
      message: /plugin "bad-start".*port in use/,
      expect: { early: ['create', 'start', 'stop'], bad: ['create', 'start', 'stop'], late: ['create', 'stop'] },
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const { probe, config } = await fixture(t);
      const [early, bad, late] = c.plugins(probe);
      const err: any = await createGateway({ config: config([late], [early, bad]), logger: testLogger() }).then(
        () => undefined,
        (e: unknown) => e,
      );
      t.ok(err, 'createGateway rejects');
      t.equal(err?.code, c.code, `code ${c.code}`);
      t.match(err?.message, c.message, 'the message names the plugin and the cause');
      t.match(err?.message, /\/plugins\/1/, 'and where it is declared');
      t.ok(err?.cause instanceof Error, 'the cause is kept');
      for (const [id, want] of Object.entries(c.expect)) t.same(events(id), want, `${id}: ${want.join(', ') || 'never created'}`);
    });
  }
});

t.test('handle() failures become a 500 JSON answer naming the plugin', async (t) => {
  const cases = [
    { name: 'throws', handle: 'throw', cause: 'handle exploded' },
    { name: 'rejects asynchronously', handle: 'reject', cause: 'handle rejected later' },
  ];
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const { probe, start, hits } = await fixture(t);
      const { url } = await start([probe('flaky-auth', { handle: c.handle })]);
      const res = await request(`${url}/x`);
      t.equal(res.status, 500, '500');
      const body = expectError(t, res, 'GH_ERR_PLUGIN_FAILED');
      t.match(body.error.message, /plugin "flaky-auth"/, 'the message names the plugin');
      t.match(body.error.message, c.cause, 'and the cause');
      t.equal(hits.a, 0, 'the upstream was never called');
      t.equal((await request(`${url}/x`)).status, 500, 'the gateway keeps serving');
    });
  }
});

t.test('next() called twice never produces two responses', async (t) => {
  await t.test('twice in a row after the upstream answered: one 200, one upstream request', async (t) => {
    const { probe, start, hits } = await fixture(t);
    const { port } = await start([probe('twice', { handle: 'next-twice-sequential' })]);
    const wire = await raw(port, 'GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n', 500);
    t.equal(wire.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, 'exactly one response on the wire');
    t.match(wire, /^HTTP\/1\.1 200/, 'the upstream answer');
    t.equal(hits.a, 1, 'the upstream saw one request');
  });
  await t.test('the second call before anything answered: 500, and the late chain does not answer again', async (t) => {
    const { probe, start, hits } = await fixture(t);
    const { port } = await start([probe('twice', { handle: 'next-twice-concurrent' }), probe('slowpoke', { handle: 'wait' })]);
    const wire = await raw(port, 'GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n', 500);
    t.equal(wire.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, 'exactly one response on the wire');
    t.match(wire, /^HTTP\/1\.1 500/, '500');
    expectError(t, wire, 'GH_ERR_PLUGIN_FAILED');
    t.match(wire, /plugin \\"twice\\".*next\(\) called multiple times/, 'names the plugin and the misuse');
    t.equal(hits.a, 0, 'the upstream was not called');
  });
});

t.test('what a plugin can do to a request', async (t) => {
  const cases: {
    name: string;
    plugins: (p: (n: string, o?: Record<string, unknown>) => Decl) => Decl[];
    check(t: Test, res: { status: number; headers: Record<string, any>; body: string }): void;
  }[] = [
    {
      name: 'onProxyRequest sets an upstream request header',
      plugins: (p) => [p('tagger', { requestHeader: 'x-tag' })],
      check: (t, res) => t.equal(JSON.parse(res.body).headers['x-tag'], 'from-tagger', 'the upstream saw the header'),
    },
    {
      name: 'onProxyResponse sets a response header',
      plugins: (p) => [p('stamper', { responseHeader: 'x-stamp' })],
      check: (t, res) => {
        t.equal(res.status, 200, '200');
        t.equal(res.headers['x-stamp'], 'from-stamper', 'the client saw the header');
      },
    },
    {
      name: 'ctx.json answers without an upstream',
      plugins: (p) => [p('answerer', { handle: 'json' })],
      check: (t, res) => {
        t.equal(res.status, 201, 'status from the plugin');
        t.same(JSON.parse(res.body), { answeredBy: 'answerer' }, 'JSON body from the plugin');
      },
    },
    {
      name: 'ctx.upstream switches to another declared upstream',
      plugins: (p) => [p('switcher', { handle: 'upstream', upstream: 'b' })],
      check: (t, res) => {
        t.equal(res.headers['x-backend'], 'b', 'upstream b answered');
        t.equal(res.body, 'from b', 'with its body');
      },
    },
    {
      name: 'ctx.upstream naming an undeclared upstream is a 502',
      plugins: (p) => [p('switcher', { handle: 'upstream', upstream: 'nowhere' })],
      check: (t, res) => {
        t.equal(res.status, 502, '502');
        t.match(expectError(t, res, 'GH_ERR_NO_UPSTREAM').error.message, /nowhere/, 'names the upstream');
      },
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const { probe, start } = await fixture(t);
      const { url } = await start(c.plugins(probe));
      const res = await request(`${url}/thing`);
      c.check(t, res);
    });
  }
});

t.test('global plugins run before route plugins, as an onion', async (t) => {
  const { probe, start } = await fixture(t);
  const { url } = await start(
    [probe('route-one', { id: 'r1' }), probe('route-two', { id: 'r2' })],
    [probe('global-one', { id: 'g1' }), probe('global-two', { id: 'g2' })],
  );
  g.__ghProbe.length = 0;
  t.equal((await request(`${url}/x`)).status, 200, 'forwarded');
  t.same(
    g.__ghProbe,
    ['g1:in', 'g2:in', 'r1:in', 'r2:in', 'r2:out', 'r1:out', 'g2:out', 'g1:out'],
    'globals first, then route plugins in order; unwinding in reverse',
  );
});

t.test("each plugin's metrics are registered under gatehouse_<snake_name>_", async (t) => {
  const { probe, start } = await fixture(t);
  const { url, gw } = await start([probe('rate-limiter', { metric: 'hits_total' })], [probe('geo-ip', { metric: 'lookups_total' })]);
  await request(`${url}/x`);
  await request(`${url}/y`);
  const text = await gw.metrics.registry.metrics();
  t.match(
    text,
    /^gatehouse_rate_limiter_hits_total\{instance="rate-limiter#1"\} 2$/m,
    'route plugin metric, prefixed, counted, labelled with its instance',
  );
  t.match(
    text,
    /^gatehouse_geo_ip_lookups_total\{instance="geo-ip#1"\} 2$/m,
    'global plugin metric, prefixed, counted, labelled with its instance',
  );
  t.notMatch(text, /^hits_total/m, 'never unprefixed');
});

t.test('scope.container is a child container: registrations never reach the root container', async (t) => {
  const { probe, start } = await fixture(t);
  const token = `probe.service.${Date.now()}`;
  const { gw } = await start([probe('di-user', { id: 'di', register: token })]);
  const scoped = g.__ghScopes.di.container;
  t.not(scoped, rootContainer, 'not the global container');
  t.equal(scoped.resolve(token), 'di', 'the plugin resolves what it registered');
  t.notOk(rootContainer.isRegistered(token, true), 'the root container does not see it');
  t.equal(scoped.resolve(TOKENS.metrics), gw.metrics, "core's shared services are reachable through the parent");
  t.notOk(rootContainer.isRegistered(TOKENS.metrics, true), 'core does not register into the root container either');
  t.notOk(
    Object.values(TOKENS).some((token) => scoped.resolve(token) === gw),
    'the Gateway itself is never handed to plugins',
  );
});

t.test('stop() runs once per plugin on close', async (t) => {
  const { probe, config } = await fixture(t);
  const gw = await createGateway({
    config: config([probe('route-one', { id: 'r1' })], [probe('global-one', { id: 'g1' })]),
    logger: testLogger(),
  });
  await gw.listen();
  await gw.close(100);
  t.same(events('g1'), ['create', 'start', 'stop'], 'global plugin: create, start, stop');
  t.same(events('r1'), ['create', 'start', 'stop'], 'route plugin: create, start, stop');
});
