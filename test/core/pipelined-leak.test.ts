import t, { type Test } from 'tap';
import net from 'node:net';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createGateway, type Gateway } from '../../app';
import { request, startBackend } from '../helpers/servers';
import { tempDir, until } from '../helpers/gatehouse-process';

/** A custom plugin that leaves a marker file when its generation is stopped. */
const STOP_MARKER = `
const { writeFileSync } = require('node:fs');
module.exports = {
  name: 'stop-marker',
  schema: { type: 'object', additionalProperties: false, required: ['file'], properties: { file: { type: 'string' } } },
  create(o) { return { stop() { writeFileSync(o.file, 'stopped'); } }; },
};
`;

/** The value of an unlabelled (or exactly labelled) series in the gateway's registry. */
async function metric(gw: Gateway, series: string): Promise<number> {
  const text = await gw.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** A backend that answers after 300 ms and reports each arrival. */
async function slowBackend(t: Test) {
  let arrivals = 0;
  const be = await startBackend(t, (req, res) => {
    arrivals++;
    req.resume();
    const timer = setTimeout(() => res.writeHead(200, { 'content-length': 2 }).end('ok'), 300);
    res.on('close', () => clearTimeout(timer));
  });
  return { ...be, arrivals: () => arrivals };
}

/** Send `data` in one write, wait until the backend saw `expect` more requests, then close the socket. */
async function sendAndAbandon(port: number, data: string, arrivals: () => number, expect: number): Promise<void> {
  const before = arrivals();
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  await new Promise<void>((r) => sock.once('connect', r));
  sock.write(data);
  await until(async () => arrivals() - before >= expect, 2000, 5);
  sock.destroy();
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

const cases = [
  { desc: 'two pipelined GETs, closed before the first answer', data: get('/a') + get('/b'), requests: 2 },
  { desc: 'three pipelined GETs, closed before the first answer', data: get('/a') + get('/b') + get('/c'), requests: 3 },
  {
    desc: 'a POST with a body, then a GET behind it',
    data: 'POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' + get('/b'),
    requests: 2,
  },
];

/** A gateway from a config file with the stop-marker plugin, logging into `lines`. */
async function setup(t: Test, upstream: string) {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'stop-marker.js'), STOP_MARKER);
  const file = join(dir, 'gatehouse.json');
  const write = (marker: string) =>
    writeFileSync(
      file,
      JSON.stringify({
        server: { http: { port: 0, host: '127.0.0.1' } },
        log: { level: 'info', accessLog: { flushMs: 0 } }, // lines within a millisecond: the test reads them at once
        upstreams: { be: { targets: [upstream] } },
        plugins: [{ './stop-marker.js': { file: join(dir, marker) } }],
        routes: [{ match: { path: '/' }, upstream: 'be' }],
      }),
    );
  write('gen1-stopped');
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(c: Buffer, _e, cb) {
      for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  const gw = await createGateway({ config: file, logger: pino({ level: 'info' }, stream) });
  await gw.listen();
  t.teardown(() => gw.close(200));
  return { gw, port: gw.addresses.http!.port, dir, write, lines };
}

for (const c of cases) {
  t.test(`${c.desc}: in-flight returns to 0, each request is logged and counted as 499`, async (t) => {
    const be = await slowBackend(t);
    const { gw, port, lines } = await setup(t, be.url);
    const N = 4;
    // Node parses pipelined requests at once, so every one of them reaches the backend.
    for (let i = 0; i < N; i++) await sendAndAbandon(port, c.data, be.arrivals, c.requests);
    const drained = await until(async () => (await metric(gw, 'gatehouse_inflight_requests')) === 0, 2000).then(
      () => true,
      () => false,
    );
    t.ok(drained, `gatehouse_inflight_requests back to 0 (is ${await metric(gw, 'gatehouse_inflight_requests')})`);
    const access = lines.filter((l) => l.access);
    t.equal(access.length, N * c.requests, `one access line per request (${access.length})`);
    t.same([...new Set(access.map((l) => l.status))], [499], 'every one of them abandoned: 499');
    t.equal(
      await metric(gw, 'gatehouse_requests_total{route="route-0",method="GET",status="499"}'),
      N * (c.data.startsWith('POST') ? 1 : c.requests),
      'GETs counted as 499',
    );
    t.equal(gw.runtime.inflight, 0, "the generation's own in-flight count is 0");
    const after = await request(`http://127.0.0.1:${port}/ok`);
    t.equal(after.status, 200, 'the proxy still serves');
    await until(async () => lines.some((l) => l.access && l.path === '/ok'), 1000);
    t.equal(lines.find((l) => l.access && l.path === '/ok')?.status, 200, 'and logs an answered request with its status');
  });
}

t.test('after a reload, the old generation drains and its plugins stop despite abandoned pipelined requests', async (t) => {
  const be = await slowBackend(t);
  const { gw, port, dir, write } = await setup(t, be.url);
  for (let i = 0; i < 3; i++) await sendAndAbandon(port, get('/a') + get('/b'), be.arrivals, 2);
  write('gen2-stopped');
  await gw.reload();
  const stopped = await until(async () => existsSync(join(dir, 'gen1-stopped')), 2000).then(
    () => true,
    () => false,
  );
  t.ok(stopped, "the old generation's plugin was stopped");
  t.notOk(existsSync(join(dir, 'gen2-stopped')), 'the new generation keeps running');
  t.equal(await metric(gw, 'gatehouse_inflight_requests'), 0, 'gatehouse_inflight_requests is 0');
  // The gauge reads the live generation's pools; the backend's own count covers the old one's.
  const connections = () => new Promise<number>((r) => be.server.getConnections((_e, n) => r(n)));
  const freed = await until(async () => (await connections()) === 0, 2000).then(
    () => true,
    () => false,
  );
  t.ok(freed, `the old generation's upstream sockets are closed (backend sees ${await connections()})`);
});

t.test('pipelined requests that are answered are logged with their status, once each', async (t) => {
  const be = await slowBackend(t);
  const { gw, port, lines } = await setup(t, be.url);
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  sock.setEncoding('latin1').on('data', (d: string) => {
    got += d;
  });
  sock.write(get('/a') + get('/b') + get('/c'));
  await until(async () => (got.match(/HTTP\/1\.1 200/g) ?? []).length === 3, 3000);
  sock.destroy();
  t.equal((got.match(/HTTP\/1\.1 200/g) ?? []).length, 3, 'three answers, in order');
  await until(async () => (await metric(gw, 'gatehouse_inflight_requests')) === 0, 1000);
  await new Promise((r) => setTimeout(r, 50));
  t.same(
    lines.filter((l) => l.access).map((l) => [l.path, l.status]),
    [
      ['/a', 200],
      ['/b', 200],
      ['/c', 200],
    ],
    'one access line each, status 200',
  );
});
