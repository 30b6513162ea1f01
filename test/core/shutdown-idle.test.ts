import t from 'tap';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, startBackend } from '../helpers/servers';
import { startGatehouse, tempDir } from '../helpers/gatehouse-process';

const TOKEN = 'shutdown-idle-token-0123456789';

/** A connection that is open and has sent `data` (possibly nothing); closed at teardown. */
async function openConnection(t: { teardown(fn: () => void): void }, port: number, data: string): Promise<net.Socket> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  t.teardown(() => sock.destroy());
  await new Promise<void>((r) => sock.once('connect', r));
  if (data) sock.write(data);
  sock.resume();
  await new Promise((r) => setTimeout(r, 100));
  return sock;
}

// Nothing in flight: the exit must not wait for shutdownGrace (10 s by default, set to 5 s here
// so that a regression shows as a clear failure rather than a hung test).
const cases: { desc: string; open?: 'proxy' | 'admin' | 'keep-alive'; data?: string }[] = [
  { desc: 'no connection at all' },
  { desc: 'an idle keep-alive connection after one request', open: 'keep-alive' },
  { desc: 'a connection to the proxy port that sent nothing yet (a pre-connect, a TCP health check)', open: 'proxy', data: '' },
  { desc: 'a connection to the admin port that sent nothing yet', open: 'admin', data: '' },
  { desc: 'an idle keep-alive connection to the admin port', open: 'admin', data: 'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n' },
];

for (const c of cases) {
  t.test(`SIGTERM with nothing in flight exits at once: ${c.desc}`, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'gatehouse.json');
    writeFileSync(
      file,
      JSON.stringify({
        server: { http: { port: 0, host: '127.0.0.1' }, shutdownGrace: 5000 },
        admin: { port: 0, host: '127.0.0.1', token: TOKEN },
        log: { level: 'info', accessLog: false },
        routes: [{ match: { path: '/' }, plugins: [{ respond: { body: 'ok' } }] }],
      }),
    );
    const gh = await startGatehouse(t, file, { cwd: dir });
    if (c.open === 'keep-alive') {
      const sock = await openConnection(t, gh.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      t.ok(sock.bytesRead > 0, 'the request was answered and the connection kept');
    } else if (c.open) await openConnection(t, c.open === 'admin' ? gh.adminPort! : gh.port, c.data ?? '');
    const signalled = process.hrtime.bigint();
    gh.child.kill('SIGTERM');
    const { code } = await gh.exited;
    const ms = Number(process.hrtime.bigint() - signalled) / 1e6;
    t.equal(code, 0, 'exit code 0');
    t.ok(ms < 500, `exited ${ms.toFixed(0)} ms after SIGTERM (limit 500 ms)`);
  });
}

t.test('SIGTERM with a request in flight still waits for it, next to a connection that sent nothing', async (t) => {
  const be = await startBackend(t, (_req, res) => {
    setTimeout(() => res.end('done'), 800);
  });
  const dir = tempDir(t);
  const file = join(dir, 'gatehouse.json');
  writeFileSync(
    file,
    JSON.stringify({
      server: { http: { port: 0, host: '127.0.0.1' }, shutdownGrace: 5000 },
      log: { level: 'info', accessLog: false },
      upstreams: { be: { targets: [be.url] } },
      routes: [{ match: { path: '/' }, upstream: 'be' }],
    }),
  );
  const gh = await startGatehouse(t, file, { cwd: dir });
  await openConnection(t, gh.port, '');
  const started = Date.now();
  const inflight = request(`http://127.0.0.1:${gh.port}/slow`).then((r) => ({ ...r, at: Date.now() }));
  await new Promise((r) => setTimeout(r, 200));
  gh.child.kill('SIGTERM');
  const res = await inflight;
  await gh.exited;
  const exitedAt = Date.now();
  t.same([res.status, res.body], [200, 'done'], 'the in-flight request completes');
  t.ok(res.at <= exitedAt, 'the process exits after answering it');
  t.ok(exitedAt - started < 800 + 500, `and soon after (${exitedAt - started} ms from the request)`);
});
