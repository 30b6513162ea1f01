import t from 'tap';
import net from 'node:net';
import { expectError } from '../helpers/errors';
import { gatewayFor, startBackend } from '../helpers/servers';

/** What a raw client saw: everything received and when the server closed, in ms from the first byte sent. */
interface Seen {
  answer: string;
  closedAfterMs: number;
}

/**
 * Open a raw connection, write `first`, then write one piece of `trickle` every `everyMs`
 * (a slowloris, or a slow upload) until the server closes the connection or `maxMs` passes.
 */
function slowClient(port: number, first: string, trickle: string, everyMs: number, maxMs: number): Promise<Seen> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearInterval(timer);
      clearTimeout(limit);
      sock.destroy();
      resolve({ answer: Buffer.concat(chunks).toString('latin1'), closedAfterMs: Date.now() - started });
    };
    const limit = setTimeout(done, maxMs);
    sock.on('data', (c) => chunks.push(c));
    sock.on('close', done);
    sock.on('error', () => undefined);
    sock.once('connect', () => {
      started = Date.now();
      sock.write(first);
      timer = setInterval(() => {
        if (sock.writable) sock.write(trickle);
      }, everyMs);
    });
  });
}

const cases = [
  {
    desc: 'headers timeout against a slowloris (one header line every 200 ms)',
    timeouts: { headers: 1000, request: 5000 },
    first: 'GET /x HTTP/1.1\r\nHost: a\r\n',
    trickle: 'X-Slow: 1\r\n',
    limitMs: 1000,
  },
  {
    desc: 'request timeout against a slow POST (10 bytes every 200 ms, headers on time)',
    timeouts: { headers: 500, request: 1500 },
    first: 'POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n',
    trickle: 'x'.repeat(10),
    limitMs: 1500,
  },
];

for (const c of cases) {
  t.test(`${c.desc}: cut within a second of the configured ${c.limitMs} ms, with a 408 JSON answer`, async (t) => {
    let upstreamAborted = 0;
    const be = await startBackend(t, (req, res) => {
      req.on('data', () => undefined);
      req.on('end', () => res.end('ok'));
      res.on('close', () => {
        if (!res.writableFinished) upstreamAborted++;
      });
    });
    const { port } = await gatewayFor(t, be, { timeouts: { ...c.timeouts, keepAlive: 5000 } });
    const seen = await slowClient(port, c.first, c.trickle, 200, c.limitMs + 5000);
    t.ok(seen.closedAfterMs >= c.limitMs - 50, `not cut before the timeout (${seen.closedAfterMs} ms)`);
    t.ok(seen.closedAfterMs <= c.limitMs + 1000 + 150, `cut within a second of it (${seen.closedAfterMs} ms, limit ${c.limitMs} ms)`);
    t.match(seen.answer, /^HTTP\/1\.1 408 /, 'answered 408');
    expectError(t, seen.answer, 'GH_ERR_REQUEST_TIMEOUT');
    if (c.first.startsWith('POST')) {
      await new Promise((r) => setTimeout(r, 100));
      t.equal(upstreamAborted, 1, 'the forwarded upload was cut upstream too');
    }
  });
}
