import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { createGateway, type Gateway } from '../../app';
import { captureLogger, request, startBackend } from '../helpers/servers';
import { tempDir } from '../helpers/gatehouse-process';

/** A plugin whose start or stop can hang (never settle) or take `ms`; every call is recorded. */
const PROBE = `
module.exports = {
  name: 'slow-probe',
  schema: { type: 'object' },
  create(o) {
    const rec = (e) => globalThis.__ghTimeout.push(o.id + ':' + e);
    const run = (how) => how === 'hang' ? new Promise(() => undefined) : how ? new Promise((r) => setTimeout(r, how)) : undefined;
    return {
      start() { rec('start'); return run(o.start); },
      async stop() { rec('stop'); await run(o.stop); rec('stopped'); },
    };
  },
};
`;
const g = globalThis as unknown as { __ghTimeout: string[] };

async function fixture(t: Test) {
  const dir = tempDir(t);
  const file = join(dir, 'slow-probe.js');
  writeFileSync(file, PROBE);
  g.__ghTimeout = [];
  const be = await startBackend(t, (_req, res) => res.end('upstream'));
  const config = (pluginTimeout: number, probes: Record<string, unknown>[]) => ({
    server: { http: { port: 0, host: '127.0.0.1' }, pluginTimeout },
    log: { level: 'info', accessLog: false },
    upstreams: { app: { targets: [be.url] } },
    plugins: probes.map((o) => ({ [file]: o })),
    routes: [{ match: { path: '/' }, upstream: 'app' }],
  });
  const configFile = join(dir, 'gatehouse.json');
  const write = (pluginTimeout: number, probes: Record<string, unknown>[]) =>
    writeFileSync(configFile, JSON.stringify(config(pluginTimeout, probes)));
  const errorsTotal = async (gw: Gateway, hook: string) => {
    const m = new RegExp(
      `^gatehouse_plugin_errors_total\\{plugin="slow-probe",hook="${hook}",instance="slow-probe#\\d+"\\} (\\d+)$`,
      'm',
    ).exec(await gw.metrics.registry.metrics());
    return m ? Number(m[1]) : 0;
  };
  return { config, configFile, write, errorsTotal };
}

t.test('a start that outlasts server.pluginTimeout stops the start, and what was created is stopped', async (t) => {
  const { config } = await fixture(t);
  const t0 = Date.now();
  const err: any = await createGateway({
    config: config(300, [{ id: 'first' }, { id: 'hangs', start: 'hang' }, { id: 'never' }]),
    logger: pino({ level: 'silent' }),
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  const took = Date.now() - t0;
  t.equal(err?.code, 'GH_ERR_PLUGIN_TIMEOUT', 'GH_ERR_PLUGIN_TIMEOUT');
  t.equal(err?.status, 500, 'status 500');
  t.match(
    err?.message,
    /plugin "slow-probe" \(\/plugins\/1\): start did not finish within 300 ms \(server\.pluginTimeout\)/,
    'names the plugin, its declaration and the phase',
  );
  t.ok(took >= 290 && took < 1500, `refused after the timeout (${took} ms)`);
  t.same(
    g.__ghTimeout,
    ['first:start', 'hangs:start', 'never:stop', 'never:stopped', 'hangs:stop', 'hangs:stopped', 'first:stop', 'first:stopped'],
    'every created plugin is stopped, the hung one too; the one after it never starts',
  );
});

t.test('reload: a new generation whose start hangs is refused with GH_ERR_PLUGIN_TIMEOUT; the old config keeps serving', async (t) => {
  const { write, configFile, errorsTotal } = await fixture(t);
  write(300, [{ id: 'old' }]);
  const { logger, lines } = captureLogger();
  const gw = await createGateway({ config: configFile, logger });
  await gw.listen();
  t.teardown(() => gw.close(100));
  const url = `http://127.0.0.1:${gw.addresses.http!.port}/`;
  write(300, [{ id: 'new', start: 'hang' }]);
  const err: any = await gw.reload().then(
    () => undefined,
    (e: unknown) => e,
  );
  t.equal(err?.code, 'GH_ERR_PLUGIN_TIMEOUT', 'reload rejects with GH_ERR_PLUGIN_TIMEOUT');
  t.match(err?.message, /plugin "slow-probe" \(\/plugins\/0\): start did not finish within 300 ms/, 'naming the plugin and the phase');
  t.ok(
    lines.some((l) => l.msg === 'reload failed; keeping the previous configuration' && l.err?.message === err?.message),
    'the refusal is logged with the reason',
  );
  t.equal(await errorsTotal(gw, 'start'), 1, 'gatehouse_plugin_errors_total{hook="start"} 1');
  t.same(g.__ghTimeout, ['old:start', 'new:start', 'new:stop', 'new:stopped'], 'the new plugin is stopped; the old one is untouched');
  t.same(await request(url).then((r) => [r.status, r.body]), [200, 'upstream'], 'the old config keeps serving');
  write(300, [{ id: 'fixed' }]);
  await gw.reload();
  t.pass('a later good config reloads');
});

t.test('stop: one that hangs is logged and counted, the rest are stopped, and the whole stop takes at most pluginTimeout', async (t) => {
  const { config, errorsTotal } = await fixture(t);
  const { logger, lines } = captureLogger();
  // Stopped in reverse: "after" first, then "hangs" uses up the time, then "first" gets what is left (none)
  // and still stops, since its stop needs no time.
  const gw = await createGateway({ config: config(400, [{ id: 'first' }, { id: 'hangs', stop: 'hang' }, { id: 'after' }]), logger });
  await gw.listen();
  const t0 = Date.now();
  await gw.close(100);
  const took = Date.now() - t0;
  t.ok(took >= 390 && took < 1000, `close() took ${took} ms (pluginTimeout 400)`);
  t.same(
    g.__ghTimeout.filter((e) => !e.endsWith(':start')),
    ['after:stop', 'after:stopped', 'hangs:stop', 'first:stop', 'first:stopped'],
    'the plugins before and after the hung one are stopped',
  );
  const logged = lines.filter((l) => l.code === 'GH_ERR_PLUGIN_TIMEOUT');
  t.equal(logged.length, 1, 'the timeout is logged once');
  t.match(
    logged[0],
    {
      level: 50,
      plugin: 'slow-probe',
      at: '/plugins/1',
      hook: 'stop',
      msg: /stop did not finish within (400 ms|the \d+ ms left of server\.pluginTimeout \(400 ms)/,
    },
    'at error level, naming the plugin and the phase',
  );
  t.equal(await errorsTotal(gw, 'stop'), 1, 'gatehouse_plugin_errors_total{hook="stop"} 1');
  t.ok(
    lines.some((l) => l.msg === 'gatehouse stopped'),
    'and the gateway stops',
  );
});

t.test('stop: a slow plugin leaves the next one only what is left of the time, and says so', async (t) => {
  const { config } = await fixture(t);
  const { logger, lines } = captureLogger();
  const gw = await createGateway({
    config: config(300, [
      { id: 'slow-too', stop: 200 },
      { id: 'slow', stop: 250 },
    ]),
    logger,
  });
  await gw.listen();
  const t0 = Date.now();
  await gw.close(100);
  const took = Date.now() - t0;
  t.ok(took < 700, `close() took ${took} ms, not 450 and more`);
  t.ok(took >= 290, 'it waited for the budget');
  const logged = lines.filter((l) => l.code === 'GH_ERR_PLUGIN_TIMEOUT');
  t.equal(logged.length, 1, 'one timeout');
  t.match(
    logged[0]?.msg,
    /plugin "slow-probe" \(\/plugins\/0\): stop did not finish within the \d+ ms left of server\.pluginTimeout \(300 ms, shared by the stops before it\)/,
    'the second one, told how much time it had',
  );
});
