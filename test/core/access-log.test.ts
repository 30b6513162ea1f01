import t, { type Test } from 'tap';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../../app';
import { captureLogger, echo, request, startBackend } from '../helpers/servers';
import { tempDir } from '../helpers/gatehouse-process';

/**
 * The access log (core/observe/access-log.ts): lines built by hand and buffered (16 KiB or
 * `flushMs`), in pino's JSON shape or nginx's combined format, sampled, to stdout or a file that
 * SIGUSR1 reopens.
 */

async function gateway(
  t: Test,
  accessLog: unknown,
  level = 'info',
): Promise<{ gw: Gateway; url: string; lines: Record<string, any>[]; dir: string }> {
  const be = await startBackend(t, echo);
  const dir = tempDir(t);
  const { logger, lines } = captureLogger(level);
  // A config file, so that relative paths resolve against its directory as users' do.
  const file = join(dir, 'gatehouse.json');
  writeFileSync(
    file,
    JSON.stringify({
      log: { level, accessLog },
      server: { http: { port: 0, host: '127.0.0.1' } },
      upstreams: { be: { targets: [be.url] } },
      routes: [
        { name: 'missing', match: { path: '/missing' }, plugins: [{ respond: { status: 404, body: 'no' } }] },
        { name: 'api', match: { path: '/' }, upstream: 'be' },
      ],
    }),
  );
  const gw = await createGateway({ config: file, logger });
  await gw.listen();
  t.teardown(() => gw.close(100));
  return { gw, url: `http://127.0.0.1:${gw.addresses.http!.port}`, lines, dir };
}

/** Wait for the flush `flushMs` (default 100) after the answer's line. */
const turn = () => new Promise((r) => setTimeout(r, 200));

t.test('json lines keep the shape pino writes, field for field and in order', async (t) => {
  const { url, lines } = await gateway(t, true);
  await request(`${url}/a/b?q=1`, { headers: { 'user-agent': 'probe' } });
  await turn();
  const access = lines.filter((l) => l.access);
  t.equal(access.length, 1, 'one line for one request');
  const line = access[0];
  t.same(Object.keys(line), [
    'level',
    'time',
    'pid',
    'hostname',
    'access',
    'method',
    'path',
    'route',
    'upstream',
    'status',
    'duration_ms',
    'bytes',
    'client_ip',
    'msg',
  ]);
  t.match(line, {
    level: 30,
    pid: process.pid,
    method: 'GET',
    path: '/a/b',
    route: 'api',
    upstream: 'be',
    status: 200,
    client_ip: '127.0.0.1',
    msg: 'request',
  });
  t.ok(Math.abs(line.time - Date.now()) < 5000, `time as the logger writes it: epoch ms of now (${line.time})`);
  t.ok(line.bytes > 0 && line.duration_ms >= 0, 'bytes and duration are numbers');
  // What pino itself writes for the same record through such a logger: the same keys, in order.
  const { logger, lines: pinoLines } = captureLogger('info');
  logger.info(
    {
      access: true,
      method: 'GET',
      path: '/a/b',
      route: 'api',
      upstream: 'be',
      status: 200,
      duration_ms: 1,
      bytes: 1,
      client_ip: '127.0.0.1',
    },
    'request',
  );
  t.same(Object.keys(pinoLines[0]), Object.keys(line), "pino's own line for the record has the same keys in the same order");
});

const combinedCases = [
  {
    desc: 'a plain request',
    headers: { 'user-agent': 'curl/8.5.0', referer: 'https://example.com/' },
    path: '/x?y=1',
    want: /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/x\?y=1 HTTP\/1\.1" 200 \d+ "https:\/\/example\.com\/" "curl\/8\.5\.0"$/,
  },
  { desc: 'no referer or user agent: dashes', headers: {}, path: '/', want: /"GET \/ HTTP\/1\.1" 200 \d+ "-" "-"$/ },
  { desc: 'quotes and backslashes escaped as nginx does', headers: { 'user-agent': 'a"b\\c' }, path: '/', want: /"-" "a\\x22b\\x5Cc"$/ },
];

t.test('combined format, to a file', async (t) => {
  for (const c of combinedCases) {
    await t.test(c.desc, async (t) => {
      const { url, dir } = await gateway(t, { format: 'combined', file: 'logs/access.log' });
      await request(`${url}${c.path}`, { headers: c.headers });
      await turn();
      const text = readFileSync(join(dir, 'logs', 'access.log'), 'utf8')
        .trim()
        .split('\n');
      t.equal(text.length, 1, 'one line, in the file relative to the config directory');
      t.match(text[0], c.want);
    });
  }
});

t.test('sampling drops a share of successes and keeps every error', async (t) => {
  const { url, lines } = await gateway(t, { sample: 0.000001 });
  for (let i = 0; i < 20; i++) await request(`${url}/ok`);
  for (let i = 0; i < 5; i++) await request(`${url}/missing`);
  await turn();
  const access = lines.filter((l) => l.access);
  t.equal(access.filter((l) => l.status === 200).length, 0, 'no 200 logged at a one-in-a-million sample');
  t.equal(access.filter((l) => l.status === 404).length, 5, 'every 404 logged');
});

t.test('off, or above info on stdout: no access lines (the gateway still serves)', async (t) => {
  for (const c of [
    { desc: 'accessLog: false', accessLog: false, level: 'info' },
    { desc: 'log.level warn', accessLog: true, level: 'warn' },
  ]) {
    await t.test(c.desc, async (t) => {
      const { url, lines } = await gateway(t, c.accessLog, c.level);
      t.equal((await request(`${url}/`)).status, 200);
      await turn();
      t.equal(lines.filter((l) => l.access).length, 0);
    });
  }
});

t.test('reopenLogs (SIGUSR1) starts a new file after logrotate moved the old one', async (t) => {
  const { gw, url, dir } = await gateway(t, { file: 'access.log' });
  const file = join(dir, 'access.log');
  const paths = (f: string): string[] =>
    existsSync(f)
      ? readFileSync(f, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l).path)
      : [];
  /** The file's destination writes asynchronously: wait until it holds `n` lines. */
  const lines = async (f: string, n: number) => {
    for (let i = 0; i < 100 && paths(f).length < n; i++) await new Promise((r) => setTimeout(r, 20));
    return paths(f);
  };
  await request(`${url}/before`);
  t.same(await lines(file, 1), ['/before'], 'written to the file relative to the config');
  renameSync(file, `${file}.1`);
  await request(`${url}/moved`);
  t.same(await lines(`${file}.1`, 2), ['/before', '/moved'], 'until the signal, lines go to the moved file (the open descriptor)');
  gw.reopenLogs();
  await request(`${url}/after`);
  t.same(await lines(file, 1), ['/after'], 'after it, to a new file at the configured path');
  t.same(paths(`${file}.1`), ['/before', '/moved'], 'and the moved one is left as it was');
});

t.test('lines are buffered: written at 16 KiB or flushMs after the first, and on close', async (t) => {
  await t.test('a line waits for flushMs, then is written', async (t) => {
    const { url, lines } = await gateway(t, { flushMs: 400 });
    const sent = Date.now();
    await request(`${url}/a`);
    const answered = Date.now();
    await new Promise((r) => setTimeout(r, 100));
    t.equal(lines.filter((l) => l.access).length, 0, 'not written 100 ms after the answer');
    await new Promise((r) => setTimeout(r, 500));
    const written = lines.filter((l) => l.access);
    t.equal(written.length, 1, 'written once flushMs has passed');
    // pino's epochTime (this logger's): the line carries when the request ended, not when it was
    // written 400 ms later. The server's end of the request may settle just after the client's.
    t.ok(written[0].time >= sent && written[0].time <= answered + 50, `time ${written[0].time} within the request (${sent}..${answered})`);
  });
  await t.test('16 KiB pending are written without waiting', async (t) => {
    const { url, lines } = await gateway(t, { flushMs: 10000 });
    const line = JSON.stringify({ access: true, path: '/' + 'p'.repeat(200) }).length;
    const n = Math.ceil((16 * 1024) / line) + 5;
    for (let i = 0; i < n; i++) await request(`${url}/${'p'.repeat(200)}`);
    await new Promise((r) => setTimeout(r, 50));
    const written = lines.filter((l) => l.access).length;
    t.ok(written > 0 && written < n, `some lines written long before flushMs (${written} of ${n})`);
  });
  await t.test('close writes what is pending', async (t) => {
    const { gw, url, dir } = await gateway(t, { flushMs: 10000, file: 'access.log' });
    await request(`${url}/last`);
    await gw.close(100);
    const file = join(dir, 'access.log');
    // The file's destination writes asynchronously after close() hands it the chunk.
    for (let i = 0; i < 100 && !(existsSync(file) && readFileSync(file, 'utf8').includes('/last')); i++)
      await new Promise((r) => setTimeout(r, 20));
    t.match(readFileSync(file, 'utf8'), /"path":"\/last"/, 'the pending line is in the file');
  });
});
