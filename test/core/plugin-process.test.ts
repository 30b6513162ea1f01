import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectError } from '../helpers/errors';
import { request, startBackend } from '../helpers/servers';
import { startGatehouse, tempDir } from '../helpers/gatehouse-process';

/**
 * Real gatehouse processes with misbehaving custom plugins. Before the guards, a throwing
 * proxy hook was an uncaught exception in http-proxy's listener (exit code 1 on the first
 * request), and a stop() that never resolved kept SIGTERM from ever exiting.
 */
const BAD_PLUGIN = `
module.exports = {
  name: 'bad-hooks',
  schema: { type: 'object' },
  create(o) {
    return {
      onProxyRequest: o.hook === 'onProxyRequest' ? (ctx) => { if (ctx.path === '/fail') throw new Error('request hook bug'); } : undefined,
      onProxyResponse: o.hook === 'onProxyResponse' ? (ctx) => { if (ctx.path === '/fail') throw new Error('response hook bug'); } : undefined,
      // A stop that never settles and keeps the event loop busy, as a stuck connection would.
      stop: o.stopHangs ? () => new Promise(() => { setInterval(() => undefined, 1000); }) : undefined,
    };
  },
};
`;

async function setup(
  t: Parameters<Parameters<typeof t.test>[1]>[0],
  server: Record<string, unknown>,
  plugins: Record<string, unknown>[],
  slowMs = 0,
) {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'bad-hooks.js'), BAD_PLUGIN);
  const seen: string[] = [];
  let arrived: () => void = () => undefined;
  const be = await startBackend(t, (req, res) => {
    seen.push(req.url!);
    arrived();
    if (req.url === '/slow') {
      const timer = setTimeout(() => res.end('slow'), slowMs);
      res.once('close', () => clearTimeout(timer));
    } else res.end(`upstream ${req.url}`);
  });
  const file = join(dir, 'gatehouse.json');
  writeFileSync(
    file,
    JSON.stringify({
      server: { http: { port: 0, host: '127.0.0.1' }, ...server },
      log: { level: 'info', accessLog: false },
      upstreams: { app: { targets: [be.url] } },
      routes: [{ name: 'app', match: { path: '/' }, upstream: 'app', plugins: plugins.map((o) => ({ './bad-hooks.js': o })) }],
    }),
  );
  const gh = await startGatehouse(t, file, { cwd: dir });
  return {
    gh,
    url: `http://127.0.0.1:${gh.port}`,
    seen,
    slowArrived: () =>
      new Promise<void>((r) => {
        arrived = r;
      }),
  };
}

for (const hook of ['onProxyRequest', 'onProxyResponse'] as const) {
  t.test(`a real process survives a throwing ${hook}: 500 naming the plugin, then serves on`, async (t) => {
    const { gh, url, seen } = await setup(t, {}, [{}, { hook }]);
    const res = await request(`${url}/fail`);
    t.equal(res.status, 500, '500');
    t.match(
      expectError(t, res, 'GH_ERR_PLUGIN_FAILED').error.message,
      /plugin "bad-hooks" \(\/routes\/0\/plugins\/1\)/,
      'names the plugin and its declaration',
    );
    t.equal(
      seen.includes('/fail'),
      hook === 'onProxyResponse',
      hook === 'onProxyRequest' ? 'the upstream never got the request' : 'the upstream had answered',
    );
    t.same(await request(`${url}/ok`).then((r) => [r.status, r.body]), [200, 'upstream /ok'], 'the next request is served');
    t.equal(gh.child.exitCode, null, 'the process is still running');
    t.equal(gh.stderr(), '', 'nothing on stderr (no uncaught exception)');
    const logged = gh.logs.filter((l) => l.level >= 50);
    t.equal(logged.length, 1, 'one error log line');
    t.match(logged[0], { plugin: 'bad-hooks', hook, route: 'app', at: '/routes/0/plugins/1' }, 'naming plugin, hook and route');
    gh.child.kill('SIGTERM');
    t.equal((await gh.exited).code, 0, 'exits 0 on SIGTERM');
  });
}

const GRACE = 200;
const PLUGIN_TIMEOUT = 500;
/** Past the gateway's own bound: bin/gatehouse.js waits up to 200 ms for logs to flush, then node exits. */
const EXIT_SLACK = 600;
const cases = [
  { desc: 'idle, one plugin whose stop never resolves', plugins: [{ stopHangs: true }], inflight: false },
  {
    desc: 'a request outlasting shutdownGrace, and two plugins whose stop never resolves',
    plugins: [{ stopHangs: true }, { stopHangs: true }],
    inflight: true,
  },
];
for (const c of cases) {
  t.test(`SIGTERM exits 0 within shutdownGrace + pluginTimeout: ${c.desc}`, async (t) => {
    const { gh, url, slowArrived } = await setup(t, { shutdownGrace: GRACE, pluginTimeout: PLUGIN_TIMEOUT }, c.plugins, 10000);
    let inflight: Promise<string> | undefined;
    if (c.inflight) {
      const arrived = slowArrived();
      inflight = request(`${url}/slow`).then(
        (r) => `answered ${r.status}`,
        (e: NodeJS.ErrnoException) => `cut: ${e.code ?? e.message}`,
      );
      await arrived;
    }
    const signalledAt = Date.now();
    gh.child.kill('SIGTERM');
    const { code, signal } = await gh.exited;
    const tookMs = Date.now() - signalledAt;
    t.same({ code, signal }, { code: 0, signal: null }, 'exit code 0');
    const at = (msg: string) => Date.parse(gh.logs.find((l) => l.msg === msg)?.time);
    const inside = at('gatehouse stopped') - at('shutting down');
    t.ok(inside <= GRACE + PLUGIN_TIMEOUT + 100, `the gateway stopped ${inside} ms after the signal (bound ${GRACE + PLUGIN_TIMEOUT} ms)`);
    if (c.inflight) t.ok(inside >= GRACE + PLUGIN_TIMEOUT - 20, 'having used the grace and then the plugin timeout');
    t.ok(tookMs < GRACE + PLUGIN_TIMEOUT + EXIT_SLACK, `the process was gone ${tookMs} ms after the signal`);
    const timeouts = gh.logs.filter((l) => l.code === 'GH_ERR_PLUGIN_TIMEOUT');
    t.equal(timeouts.length, c.plugins.length, 'each hung stop is logged');
    t.match(
      timeouts[0],
      { level: 50, plugin: 'bad-hooks', hook: 'stop', msg: /stop did not finish within/ },
      'naming the plugin and the phase',
    );
    if (inflight) t.match(await inflight, /^cut/, 'the request still running after the grace was closed');
  });
}
