import t, { type Test } from 'tap';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGateway } from '../../app';
import { expectError } from '../helpers/errors';
import { captureLogger, request, startBackend } from '../helpers/servers';
import { tempDir } from '../helpers/gatehouse-process';

/**
 * A plugin that fails in one hook, only for paths under /fail: synchronously ('throw') or
 * with a rejected promise ('reject'), before anything reached the client or after writing
 * a response head and part of a body itself ('after').
 */
const PROBE = `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
module.exports = {
  name: 'guard-probe',
  schema: { type: 'object' },
  create(o) {
    const failing = (ctx) => o.hook && ctx.path.startsWith('/fail');
    const boom = (ctx, hook) => {
      if (o.after) { ctx.res.writeHead(200, { 'content-type': 'text/plain' }); ctx.res.write('partial'); }
      const err = new Error(hook + ' exploded');
      // The proxy hooks are synchronous: what an async one does is reject at once (a microtask later).
      if (o.mode === 'reject') return hook.startsWith('onProxy') ? Promise.reject(err) : sleep(5).then(() => { throw err; });
      throw err;
    };
    const hooks = {
      async handle(ctx, next) {
        if (o.hook === 'handle' && failing(ctx)) return boom(ctx, 'handle');
        if (o.hook === 'gatehouse-error' && failing(ctx)) throw new (require(${JSON.stringify(require.resolve('../../core/errors'))}).GatehouseError)('GH_ERR_NOT_FOUND', 'nothing here on purpose');
        await next();
      },
    };
    if (o.hook === 'onProxyRequest') hooks.onProxyRequest = (ctx) => { if (failing(ctx)) return boom(ctx, 'onProxyRequest'); };
    if (o.hook === 'onProxyResponse') hooks.onProxyResponse = (ctx) => { if (failing(ctx)) return boom(ctx, 'onProxyResponse'); };
    if (o.hook === 'interceptResponse') hooks.interceptResponse = (ctx) => { if (failing(ctx)) return boom(ctx, 'interceptResponse'); return false; };
    return hooks;
  },
};
`;

/** One GET on a raw socket: everything received, and whether the server closed before `ms`. */
function rawGet(port: number, path: string, ms = 2000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = (closed: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => done(false), ms);
    sock.on('data', (c) => chunks.push(c));
    sock.on('close', () => done(true));
    sock.on('error', () => undefined);
    sock.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  });
}

async function fixture(t: Test, probe: Record<string, unknown>) {
  const dir = tempDir(t);
  const file = join(dir, 'guard-probe.js');
  writeFileSync(file, PROBE);
  const seen: string[] = [];
  const be = await startBackend(t, (req, res) => {
    seen.push(req.url!);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`upstream ${req.url}`);
  });
  const { logger, lines } = captureLogger('debug');
  const gw = await createGateway({
    logger,
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      log: { level: 'info', accessLog: false },
      upstreams: { app: { targets: [be.url] } },
      // Two instances of the same plugin: only the second fails, and the answer must say which.
      routes: [{ name: 'guarded', match: { path: '/' }, upstream: 'app', plugins: [{ [file]: {} }, { [file]: probe }] }],
    },
  });
  await gw.listen();
  t.teardown(() => gw.close(100));
  const port = gw.addresses.http!.port;
  const errorsTotal = async (hook: string) => {
    const m = new RegExp(
      `^gatehouse_plugin_errors_total\\{plugin="guard-probe",hook="${hook}",instance="guard-probe#2"\\} (\\d+)$`,
      'm',
    ).exec(await gw.metrics.registry.metrics());
    return m ? Number(m[1]) : 0;
  };
  return { port, url: `http://127.0.0.1:${port}`, seen, lines, errorsTotal };
}

type Hook = 'handle' | 'onProxyRequest' | 'onProxyResponse' | 'interceptResponse';
type Outcome = '500' | 'cut' | 'sent';
const cases: { desc: string; hook: Hook; mode: 'throw' | 'reject'; after: boolean; outcome: Outcome; upstreamSees: boolean | 'maybe' }[] =
  [];
for (const hook of ['handle', 'onProxyRequest', 'onProxyResponse', 'interceptResponse'] as const) {
  for (const mode of ['throw', 'reject'] as const) {
    // The proxy hooks are synchronous; a promise one returns is not waited for. By the time it
    // rejects, the upstream request may be under way (it is destroyed, the client gets a 500),
    // and an upstream answer has gone out whole (nothing to take back: logged and counted).
    const late = mode === 'reject' && (hook === 'onProxyRequest' || hook === 'onProxyResponse');
    const note = late ? ' (a synchronous hook returning a rejected promise)' : '';
    const upstreamSees = hook === 'handle' ? false : hook === 'onProxyRequest' ? (late ? 'maybe' : false) : true;
    const early: Outcome = late && hook === 'onProxyResponse' ? 'sent' : '500';
    const what = {
      '500': '500 naming the plugin instance',
      sent: 'the answer has gone out whole; logged and counted',
      cut: 'the connection is cut',
    };
    cases.push({
      desc: `${hook}: ${mode}${note} before the head is sent → ${what[early]}`,
      hook,
      mode,
      after: false,
      outcome: early,
      upstreamSees,
    });
    cases.push({
      desc: `${hook}: ${mode}${note} after the head is sent → ${what.cut}`,
      hook,
      mode,
      after: true,
      outcome: 'cut',
      upstreamSees,
    });
  }
}

for (const c of cases) {
  t.test(c.desc, async (t) => {
    const { port, url, seen, lines, errorsTotal } = await fixture(t, { hook: c.hook, mode: c.mode, after: c.after });
    const before = lines.length;
    if (c.outcome === '500') {
      const res = await request(`${url}/fail/1`);
      t.equal(res.status, 500, '500');
      const body = expectError(t, res, 'GH_ERR_PLUGIN_FAILED');
      t.match(body.error.message, /plugin "guard-probe" \(\/routes\/0\/plugins\/1\)/, 'names the plugin and which declaration of it');
      t.match(body.error.message, `${c.hook} exploded`, 'and the cause');
    } else if (c.outcome === 'sent') {
      const res = await request(`${url}/fail/1`);
      t.same([res.status, res.body], [200, 'upstream /fail/1'], 'the upstream answer, whole');
    } else {
      const got = await rawGet(port, '/fail/1');
      t.match(got.text, /^HTTP\/1\.1 200 /, 'the head the plugin wrote went out');
      t.ok(got.closed, 'the server closed the connection');
      t.notMatch(got.text, /\r\n0\r\n\r\n$/, 'without ending the chunked body: the client can tell it is cut short');
    }
    if (c.upstreamSees !== 'maybe')
      t.equal(
        seen.includes('/fail/1'),
        c.upstreamSees,
        c.upstreamSees ? 'the upstream answered before the hook failed' : 'the upstream never received the failed request',
      );
    await new Promise((r) => setTimeout(r, 30)); // a late rejection, or a second log line, would show by now
    t.equal(await errorsTotal(c.hook), 1, `gatehouse_plugin_errors_total{plugin="guard-probe",hook="${c.hook}"} 1`);
    const errors = lines.slice(before).filter((l) => l.level >= 50);
    t.equal(errors.length, 1, 'one error log line');
    t.match(
      errors[0],
      { plugin: 'guard-probe', at: '/routes/0/plugins/1', hook: c.hook, route: 'guarded', code: 'GH_ERR_PLUGIN_FAILED' },
      'with plugin, declaration, hook and route',
    );
    const next = await request(`${url}/ok`);
    t.same([next.status, next.body], [200, 'upstream /ok'], 'the next request is served');
  });
}

t.test("a GatehouseError thrown on purpose is the plugin's answer, not a failure", async (t) => {
  const { url, lines, errorsTotal } = await fixture(t, { hook: 'gatehouse-error' });
  const res = await request(`${url}/fail/1`);
  t.equal(res.status, 404, 'its own status');
  t.equal(expectError(t, res, 'GH_ERR_NOT_FOUND').error.message, 'nothing here on purpose', 'its own code and message');
  t.equal(await errorsTotal('handle'), 0, 'not counted as a plugin failure');
  t.equal(lines.filter((l) => l.level >= 50).length, 0, "a 4xx is the client's: no error line");
  t.same(
    lines.filter((l) => l.code === 'GH_ERR_NOT_FOUND').map((l) => l.level),
    [20],
    'logged once, at debug',
  );
});

t.test('onProxyRequest throwing on a WebSocket upgrade: one 500, one log line, no upstream error', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'guard-probe.js');
  writeFileSync(file, PROBE);
  let upgrades = 0;
  const be = await startBackend(t, (_req, res) => res.end('plain'));
  be.server.on('upgrade', (_req, socket) => {
    upgrades++;
    socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  });
  const { logger, lines } = captureLogger();
  const gw = await createGateway({
    logger,
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      log: { level: 'info', accessLog: false },
      upstreams: { app: { targets: [be.url] } },
      routes: [
        {
          name: 'ws',
          match: { path: '/' },
          upstream: 'app',
          websocket: true,
          plugins: [{ [file]: { hook: 'onProxyRequest', mode: 'throw' } }],
        },
      ],
    },
  });
  await gw.listen();
  t.teardown(() => gw.close(100));
  const answer = await new Promise<string>((resolve) => {
    const sock = net.connect(gw.addresses.http!.port, '127.0.0.1');
    let text = '';
    sock.on('data', (c) => (text += c.toString('latin1')));
    sock.on('close', () => resolve(text));
    sock.write(
      'GET /fail/ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
  await new Promise((r) => setTimeout(r, 50));
  t.equal((answer.match(/^HTTP\/1\.1 /gm) ?? []).length, 1, 'one answer');
  t.match(answer, /^HTTP\/1\.1 500 /, 'a 500');
  expectError(t, answer, 'GH_ERR_PLUGIN_FAILED');
  t.equal(upgrades, 0, 'the upstream never saw the upgrade');
  t.equal(lines.filter((l) => l.level >= 50).length, 1, 'one error line');
  t.notMatch(await gw.metrics.registry.metrics(), /gatehouse_upstream_errors_total\{/, 'not counted as an upstream failure');
});
