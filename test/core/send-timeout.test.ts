import t from 'tap';
import net from 'node:net';
import { gatewayFor, startBackend, type Teardown } from '../helpers/servers';
import { until } from '../helpers/gatehouse-process';

const MiB = 1024 * 1024;
const SEND = 1000;

/** Open sockets to upstream "be" as the gateway's gauge reports them. */
async function openSockets(gw: { metrics: { registry: { metrics(): Promise<string> } } }): Promise<number> {
  const m = /gatehouse_upstream_open_sockets\{upstream="be"\} (\d+)/.exec(await gw.metrics.registry.metrics());
  return m ? Number(m[1]) : 0;
}

/**
 * /big streams 64 MiB (far more than loopback socket buffers hold) with backpressure;
 * /poll stays silent for 2.5 s (longer than the send timeout), then answers.
 * /trickle sends its head and a chunk, is silent for 2.5 s, then ends.
 * Each upstream response records when its socket closed and whether it finished.
 */
async function backend(t: Teardown) {
  const ends: { url: string; finished: boolean; at: number }[] = [];
  const be = await startBackend(t, (req, res) => {
    res.on('close', () => ends.push({ url: req.url!, finished: res.writableFinished, at: Date.now() }));
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 64 * MiB });
      const block = Buffer.alloc(64 * 1024, 1);
      let sent = 0;
      const pump = () => {
        while (sent < 64 * MiB) {
          sent += block.length;
          if (!res.write(block)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    } else if (req.url === '/poll') {
      const timer = setTimeout(() => res.end('news'), 2500);
      res.on('close', () => clearTimeout(timer));
    } else if (req.url === '/trickle') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first ');
      const timer = setTimeout(() => res.end('last'), 2500);
      res.on('close', () => clearTimeout(timer));
    } else res.end('ok');
  });
  return { ...be, ends };
}

/** A raw GET whose reading starts after `readAfterMs` (never when undefined); resolves with what came, at close or `maxMs`. */
function client(
  port: number,
  path: string,
  readAfterMs: number | undefined,
  maxMs: number,
): Promise<{ bytes: number; text: string; closedAt: number }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let bytes = 0;
    let text = '';
    sock.pause();
    const done = () => {
      clearTimeout(limit);
      sock.destroy();
      resolve({ bytes, text, closedAt: Date.now() });
    };
    const limit = setTimeout(done, maxMs);
    sock.on('data', (c: Buffer) => {
      bytes += c.length;
      if (text.length < 4096) text += c.toString('latin1');
    });
    sock.on('close', done);
    sock.on('error', () => undefined);
    sock.write(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    if (readAfterMs !== undefined) setTimeout(() => sock.resume(), readAfterMs);
  });
}

t.test(`server.timeouts.send (${SEND} ms): a client that reads nothing is cut, and its upstream socket freed`, async (t) => {
  const be = await backend(t);
  const { gw, port } = await gatewayFor(t, be, { timeouts: { send: SEND } });

  const cases = [
    { desc: 'never reads a 64 MiB answer', path: '/big', readAfterMs: undefined, cut: true },
    { desc: 'reads a 64 MiB answer after a pause shorter than the timeout', path: '/big', readAfterMs: SEND - 300, cut: false },
    { desc: 'waits on a silent long-poll longer than the timeout', path: '/poll', readAfterMs: 0, cut: false },
    { desc: 'waits on an answer that goes silent mid-body longer than the timeout', path: '/trickle', readAfterMs: 0, cut: false },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const before = be.ends.length;
      const started = Date.now();
      const seen = await client(port, c.path, c.readAfterMs, c.cut ? SEND + 3000 : 10000);
      await until(async () => be.ends.length > before, 3000);
      const end = be.ends[before];
      if (c.cut) {
        t.ok(seen.bytes < 64 * MiB, `the client read nothing (${seen.bytes} bytes)`);
        t.notOk(end?.finished, 'the upstream answer did not finish');
        const after = (end?.at ?? Infinity) - started;
        t.ok(after >= SEND, `the upstream socket closed no sooner than the timeout (${after} ms)`);
        t.ok(after <= SEND + 1000, `and within a second of it (${after} ms)`);
        const freed = await until(async () => (await openSockets(gw)) === 0, 1000).then(
          () => true,
          () => false,
        );
        t.ok(freed, `gatehouse_upstream_open_sockets back to 0 (is ${await openSockets(gw)})`);
      } else {
        t.match(seen.text, /^HTTP\/1\.1 200 /, 'answered 200');
        t.ok(end?.finished, 'the upstream answer finished');
        if (c.path === '/big') t.ok(seen.bytes > 64 * MiB, `the whole body arrived (${seen.bytes} bytes)`);
        else t.match(seen.text, c.path === '/poll' ? /news$/ : /first [\s\S]*last/, 'with the late body');
      }
    });
  }
});

t.test('with a send timeout, idle keep-alive connections still close after timeouts.keepAlive', async (t) => {
  const be = await backend(t);
  const { port } = await gatewayFor(t, be, { timeouts: { send: 5000, keepAlive: 300 } });
  const sock = net.connect(port, '127.0.0.1');
  let answered = 0;
  sock.on('data', () => {
    answered ||= Date.now();
  });
  sock.write('GET /ok HTTP/1.1\r\nHost: a\r\n\r\n');
  const closedAt = await new Promise<number>((r) => sock.once('close', () => r(Date.now())));
  t.ok(answered > 0, 'the request was answered');
  t.ok(
    closedAt - answered >= 250 && closedAt - answered < 2000,
    `the idle connection closed after 300 ms (+ the 1 s Node adds) (${closedAt - answered} ms)`,
  );
});
