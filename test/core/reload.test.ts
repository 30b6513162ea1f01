import t, { type Test } from 'tap';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../../app';
import { expectError } from '../helpers/errors';
import { captureLogger, request, startBackend } from '../helpers/servers';
import { startGatehouse, tempDir, until } from '../helpers/gatehouse-process';

const TOKEN = 'reload-test-token-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Backend answering its marker; /slow… waits 500 ms first and says so. */
async function markerBackend(t: Test, name: string) {
  const seenSlow: (() => void)[] = [];
  const be = await startBackend(t, (req, res) => {
    const body = req.url!.startsWith('/slow') ? `${name}:slow` : name;
    const answer = () => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }).end(body);
    if (req.url!.startsWith('/slow')) {
      seenSlow.splice(0).forEach((f) => f());
      setTimeout(answer, 500);
    } else answer();
  });
  return { ...be, slowArrived: () => new Promise<void>((r) => seenSlow.push(r)) };
}

async function setup(t: Test, extra: Record<string, unknown> = {}) {
  const dir = tempDir(t);
  const file = join(dir, 'gatehouse.json');
  const A = await markerBackend(t, 'A');
  const B = await markerBackend(t, 'B');
  const config = (upstream: string, more: Record<string, unknown> = {}) => ({
    server: { http: { port: 0, host: '127.0.0.1' } },
    log: { level: 'info', accessLog: false },
    upstreams: { a: { targets: [A.url] }, b: { targets: [B.url] } },
    routes: [{ match: { path: '/' }, upstream }],
    ...extra,
    ...more,
  });
  const write = (upstream: string, more?: Record<string, unknown>) => writeFileSync(file, JSON.stringify(config(upstream, more), null, 2));
  write('a');
  const { logger, lines } = captureLogger();
  const gw = await createGateway({ config: file, logger });
  await gw.listen();
  t.teardown(() => gw.close(200));
  const url = `http://127.0.0.1:${gw.addresses.http!.port}`;
  return { dir, file, A, B, gw, url, write, lines, adminUrl: gw.addresses.admin ? `http://127.0.0.1:${gw.addresses.admin.port}` : '' };
}

async function reloadCount(gw: Gateway, result: 'ok' | 'failed'): Promise<number> {
  const m = new RegExp(`gatehouse_config_reloads_total\\{result="${result}"\\} (\\d+)`).exec(await gw.metrics.registry.metrics());
  return m ? Number(m[1]) : 0;
}

t.test('reloads under load: zero failed requests, new requests see the new upstream', async (t) => {
  const { url, gw, write } = await setup(t);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.teardown(() => agent.destroy());
  const get = (path: string) => request(`${url}${path}`, { agent });
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const seen = new Set<string>();
  const worker = async () => {
    while (!stop) {
      try {
        const res = await get('/');
        if (res.status === 200 && (res.body === 'A' || res.body === 'B')) {
          ok++;
          seen.add(res.body);
        } else failures.push(`${res.status} ${res.body}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  const afterReload: string[] = [];
  const expected: string[] = [];
  for (let i = 0; i < 8; i++) {
    await sleep(250);
    const next = i % 2 === 0 ? 'b' : 'a';
    write(next);
    await gw.reload();
    expected.push(next.toUpperCase());
    afterReload.push((await request(`${url}/`)).body);
  }
  await sleep(150);
  stop = true;
  await Promise.all(workers);
  t.same(failures, [], 'no socket errors and no non-2xx answers during 8 reloads');
  t.ok(ok > 200, `the load loop kept serving (${ok} requests)`);
  t.same([...seen].sort(), ['A', 'B'], 'load requests saw both configurations');
  t.same(afterReload, expected, 'the first request after each reload uses the new upstream');
  t.equal(await reloadCount(gw, 'ok'), 8, 'every reload counted as ok');
  t.equal(await reloadCount(gw, 'failed'), 0, 'none counted as failed');
});

t.test('an in-flight request finishes on the old config while new requests use the new one', async (t) => {
  const { url, gw, write, A, B } = await setup(t);
  const arrived = A.slowArrived();
  const slow = request(`${url}/slow`);
  await arrived;
  write('b');
  const t0 = Date.now();
  await gw.reload();
  t.ok(Date.now() - t0 < 400, 'reload does not wait for in-flight requests');
  t.equal((await request(`${url}/`)).body, 'B', 'a new request is routed by the new config');
  const old = await slow;
  t.equal(old.status, 200, 'the in-flight request succeeds');
  t.equal(old.body, 'A:slow', 'the in-flight request completes on the old upstream');
  const bArrived = B.slowArrived();
  const again = request(`${url}/slow`);
  await bArrived;
  t.equal((await again).body, 'B:slow', 'slow requests after the reload go to the new upstream');
});

t.test('an invalid config is refused, the old one keeps serving, and the failure is logged and counted', async (t) => {
  const { url, gw, write, file, dir, lines } = await setup(t);
  const failingPlugin = join(dir, 'fails-start.js');
  writeFileSync(
    failingPlugin,
    `module.exports = { name: 'fails-start', schema: { type: 'object' }, create() { return { start() { throw new Error('cannot open the spool'); } }; } };`,
  );
  const cases: { name: string; apply(): void; code: string; message: RegExp }[] = [
    { name: 'schema violation (no routes)', apply: () => write('a', { routes: [] }), code: 'GH_ERR_CONFIG_INVALID', message: /\/routes/ },
    { name: 'unknown upstream', apply: () => write('nope'), code: 'GH_ERR_CONFIG_INVALID', message: /unknown upstream "nope"/ },
    { name: 'unknown top-level key', apply: () => write('a', { listen: 80 }), code: 'GH_ERR_CONFIG_INVALID', message: /listen/ },
    {
      name: 'invalid plugin options',
      apply: () => write('a', { plugins: [{ respond: { status: 'teapot' } }] }),
      code: 'GH_ERR_CONFIG_INVALID',
      message: /respond/,
    },
    {
      name: 'unknown plugin',
      apply: () => write('a', { plugins: [{ 'no-such-plugin': {} }] }),
      code: 'GH_ERR_CONFIG_INVALID',
      message: /unknown plugin "no-such-plugin"/,
    },
    {
      name: 'unparseable file',
      apply: () => writeFileSync(file, '{ "routes": [ '),
      code: 'GH_ERR_CONFIG_PARSE',
      message: /gatehouse\.json/,
    },
    {
      name: 'plugin start fails',
      apply: () => write('a', { plugins: [{ [failingPlugin]: {} }] }),
      code: 'GH_ERR_PLUGIN_START',
      message: /"fails-start".*cannot open the spool/,
    },
  ];
  write('b');
  await gw.reload();
  let failed = 0;
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      c.apply();
      const before = lines.length;
      const err = await gw.reload().then(
        () => undefined,
        (e: any) => e,
      );
      t.ok(err, 'reload rejects');
      t.equal(err?.code, c.code, `rejects with ${c.code}`);
      t.match(err?.message, c.message, 'the error says why');
      t.equal(await reloadCount(gw, 'failed'), ++failed, 'gatehouse_config_reloads_total{result="failed"} incremented');
      const logged = lines.slice(before).find((l) => l.msg === 'reload failed; keeping the previous configuration');
      t.ok(logged, 'the failure is logged');
      t.match(logged?.err?.message, c.message, 'the log says why');
      t.equal(logged?.level, 50, 'at error level');
      const res = await request(`${url}/`);
      t.same([res.status, res.body], [200, 'B'], 'requests are still served by the previous config');
    });
  }
  write('a');
  await gw.reload();
  t.equal((await request(`${url}/`)).body, 'A', 'a valid config after failures is applied');
  t.equal(await reloadCount(gw, 'ok'), 2);
});

t.test('admin API POST /reload: token required, 200 on a valid config, 422 with the reason on an invalid one', async (t) => {
  const { url, gw, write, adminUrl } = await setup(t, { admin: { port: 0, host: '127.0.0.1', token: TOKEN } });
  const post = (headers: Record<string, string> = {}) => request(`${adminUrl}/reload`, { method: 'POST', headers });
  write('b', { admin: { port: 0, host: '127.0.0.1', token: TOKEN } });
  for (const [name, headers] of [
    ['no token', {}],
    ['wrong token', { authorization: 'Bearer not-the-token-at-all' }],
    ['basic auth', { authorization: `Basic ${TOKEN}` }],
  ] as const) {
    await t.test(name, async (t) => {
      const res = await post(headers);
      t.equal(res.status, 401, '401');
      expectError(t, res, 'GH_ERR_UNAUTHORIZED');
      t.equal((await request(`${url}/`)).body, 'A', 'nothing was reloaded');
    });
  }
  const okRes = await post({ authorization: `Bearer ${TOKEN}` });
  t.equal(okRes.status, 200, 'valid token and config: 200');
  t.equal(JSON.parse(okRes.body).status, 'reloaded', 'the body says reloaded');
  t.equal((await request(`${url}/`)).body, 'B', 'the new config is live');

  write('missing', { admin: { port: 0, host: '127.0.0.1', token: TOKEN } });
  const bad = await post({ authorization: `Bearer ${TOKEN}` });
  t.equal(bad.status, 422, 'invalid config: 422');
  // 422, not the catalogue's 500: the admin API blames the config sent, not itself.
  const body = expectError(t, bad, 'GH_ERR_RELOAD_FAILED', 422);
  t.match(body.error.message, /unknown upstream "missing"/, 'the answer says why');
  t.equal((await request(`${url}/`)).body, 'B', 'the previous config keeps serving');
  const get = await request(`${adminUrl}/reload`, { headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(get.status, 405, 'GET /reload is refused with 405, not a reload');
  expectError(t, get, 'GH_ERR_METHOD_NOT_ALLOWED');
  t.equal(await reloadCount(gw, 'failed'), 1, 'only the POST attempted a reload');
});

t.test('a real gatehouse process reloads on SIGHUP and keeps running on an invalid config', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'gatehouse.json');
  const A = await markerBackend(t, 'A');
  const B = await markerBackend(t, 'B');
  const write = (upstream: string) =>
    writeFileSync(
      file,
      JSON.stringify({
        server: { http: { port: 0, host: '127.0.0.1' } },
        log: { level: 'info', accessLog: false },
        upstreams: { a: { targets: [A.url] }, b: { targets: [B.url] } },
        routes: [{ match: { path: '/' }, upstream }],
      }),
    );
  write('a');
  const gh = await startGatehouse(t, file, { cwd: dir });
  const url = `http://127.0.0.1:${gh.port}/`;
  t.equal((await request(url)).body, 'A', 'the process serves the first config');

  write('b');
  gh.child.kill('SIGHUP');
  await until(async () => (await request(url)).body === 'B', 5000);
  t.pass('the new route answers after SIGHUP');
  await gh.waitForLog((l) => /configuration reloaded/.test(l.msg));

  write('gone');
  gh.child.kill('SIGHUP');
  const logged = await gh.waitForLog((l) => l.msg === 'reload failed; keeping the previous configuration');
  t.match(logged.err?.message, /unknown upstream "gone"/, 'the log says why the reload was refused');
  t.equal(gh.child.exitCode, null, 'the process keeps running');
  t.same(await request(url).then((r) => [r.status, r.body]), [200, 'B'], 'and serves the previous config');

  gh.child.kill('SIGTERM');
  t.equal((await gh.exited).code, 0, 'and exits 0 on SIGTERM');
});
