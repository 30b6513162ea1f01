import t from 'tap';
import http from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, startBackend, type Teardown } from '../helpers/servers';
import { startGatehouse, tempDir, tryConnect } from '../helpers/gatehouse-process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A custom plugin, loaded by path: start() and stop() leave marker files next to the config. */
const MARKER_PLUGIN = `
const { writeFileSync } = require('node:fs');
module.exports = {
  name: 'shutdown-marker',
  schema: { type: 'object', additionalProperties: false, required: ['dir'], properties: { dir: { type: 'string' } } },
  create(options) {
    return {
      start() { writeFileSync(options.dir + '/started', String(Date.now())); },
      async stop() {
        await new Promise((r) => setTimeout(r, 20));
        writeFileSync(options.dir + '/stopped', String(Date.now()));
      },
    };
  },
};
`;

/** A backend that answers "done" after `delay` ms, and says when a request arrived. */
async function slowBackend(t: Teardown, delay: number) {
  let arrived: () => void = () => undefined;
  const be = await startBackend(t, (_req, res) => {
    arrived();
    const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 4 }).end('done'), delay);
    res.once('close', () => clearTimeout(timer));
  });
  return {
    ...be,
    nextArrival: () =>
      new Promise<void>((r) => {
        arrived = r;
      }),
  };
}

const cases: {
  name: string;
  signal: NodeJS.Signals;
  delay: number;
  grace: number;
  client: 'completes' | 'closed';
  exitWithinMs: number;
}[] = [
  { name: 'SIGTERM drains an in-flight request', signal: 'SIGTERM', delay: 800, grace: 5000, client: 'completes', exitWithinMs: 3000 },
  { name: 'SIGINT drains an in-flight request', signal: 'SIGINT', delay: 800, grace: 5000, client: 'completes', exitWithinMs: 3000 },
  {
    name: 'SIGTERM closes a request still running after shutdownGrace',
    signal: 'SIGTERM',
    delay: 10000,
    grace: 300,
    client: 'closed',
    exitWithinMs: 300 + 1700,
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const dir = tempDir(t);
    const be = await slowBackend(t, c.delay);
    writeFileSync(join(dir, 'marker-plugin.js'), MARKER_PLUGIN);
    const file = join(dir, 'gatehouse.json');
    writeFileSync(
      file,
      JSON.stringify({
        server: { http: { port: 0, host: '127.0.0.1' }, shutdownGrace: c.grace },
        log: { level: 'info', accessLog: false },
        upstreams: { slow: { targets: [be.url] } },
        plugins: [{ './marker-plugin.js': { dir } }],
        routes: [
          { match: { pathExact: '/warm' }, plugins: [{ respond: { body: 'warm' } }] },
          { match: { path: '/' }, upstream: 'slow' },
        ],
      }),
    );
    const gh = await startGatehouse(t, file, { cwd: dir });
    t.ok(existsSync(join(dir, 'started')), 'the custom plugin was started');

    // An idle keep-alive connection must not hold the shutdown open.
    const agent = new http.Agent({ keepAlive: true });
    t.teardown(() => agent.destroy());
    t.equal((await request(`http://127.0.0.1:${gh.port}/warm`, { agent })).body, 'warm', 'a keep-alive connection is open and idle');

    const arrived = be.nextArrival();
    const inflight = request(`http://127.0.0.1:${gh.port}/slow`).then(
      (r) => ({ ok: true as const, status: r.status, body: r.body, at: Date.now() }),
      (e: NodeJS.ErrnoException) => ({ ok: false as const, error: e.code ?? e.message, at: Date.now() }),
    );
    await arrived;
    const signalledAt = Date.now();
    gh.child.kill(c.signal);
    await gh.waitForLog((l) => l.msg === 'shutting down' && l.signal === c.signal);
    await sleep(100);
    t.equal(await tryConnect(gh.port), 'ECONNREFUSED', 'a new connection after the signal is refused');

    const res = await inflight;
    const { code, signal } = await gh.exited;
    const exitedAt = Date.now();
    if (c.client === 'completes') {
      t.same(res.ok && [res.status, res.body], [200, 'done'], 'the in-flight request completes with 200');
      t.ok(res.at <= exitedAt, 'the process exits only after the in-flight response');
    } else {
      t.notOk(res.ok, `the client sees the connection closed (${res.ok ? 'got a response' : res.error})`);
      t.ok(res.at - signalledAt >= c.grace - 50, 'but not before the grace period');
    }
    t.same({ code, signal }, { code: 0, signal: null }, 'exit code 0');
    t.ok(exitedAt - signalledAt < c.exitWithinMs, `exited ${exitedAt - signalledAt} ms after the signal (limit ${c.exitWithinMs})`);
    t.ok(existsSync(join(dir, 'stopped')), "the plugin's stop() ran");
    if (c.client === 'completes')
      t.ok(Number(readFileSync(join(dir, 'stopped'), 'utf8')) >= res.at - 5, 'plugins stop after the in-flight request is drained');
    t.ok(
      gh.logs.some((l) => l.msg === 'gatehouse stopped'),
      'the shutdown is logged',
    );
  });
}
