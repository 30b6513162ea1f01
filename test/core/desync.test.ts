import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import t, { type Test } from 'tap';
import { expectError } from '../helpers/errors';
import { startGateway } from '../helpers/servers';
import { exchange, startRecordingBackend, type RecordingBackend, type SeenRequest } from '../helpers/raw-http';
import { CASES } from './desync-cases';

const header = (r: SeenRequest | undefined, name: string): string | null => r?.headers.find(([k]) => k === name)?.[1] ?? null;

async function gatewayFor(t: Test, be: RecordingBackend) {
  const { port } = await startGateway(t, {
    // One upstream socket: every request after an attack rides the socket the attack used.
    upstreams: { be: { targets: [be.url], maxSockets: 1 } },
    routes: [
      { name: 'blocked', match: { path: '/blocked' }, plugins: [{ respond: { status: 403, body: 'blocked' } }] },
      { name: 'ws', match: { path: '/ws' }, upstream: 'be', websocket: true },
      { name: 'all', match: { path: '/' }, upstream: 'be' },
    ],
  });
  return port;
}

t.test('request smuggling: the backend frames exactly what the gateway routed', async (t) => {
  const be = await startRecordingBackend(t);
  const port = await gatewayFor(t, be);
  t.ok(CASES.length >= 60, `${CASES.length} cases`);
  let n = 0;
  for (const c of CASES) {
    const i = n++;
    await t.test(c.desc, async (t) => {
      be.reset();
      const got = await exchange(port, c.data, { want: c.status.length, head: c.head });
      t.same(
        got.responses.map((r) => r.status),
        c.status,
        'the client gets one answer per request it sent, with the expected status',
      );
      t.same(got.interim, c.interim ?? [], 'interim answers');
      t.equal(got.leftover, '', 'no bytes beyond the answers');
      if (c.code) expectError(t, got.responses[0] ?? '', c.code);
      if (c.close) {
        t.ok(got.closed, 'connection closed after the refusal');
        t.equal(got.responses[0]?.headers.connection, 'close', 'answer says connection: close');
      }
      t.same(
        be.requests.map((r) => `${r.method} ${r.path}`),
        c.upstream,
        'the backend framed exactly the routed requests',
      );
      if (c.bodies)
        t.same(
          be.requests.map((r) => r.body),
          c.bodies,
          'with exactly their bodies',
        );
      for (const [name, value] of Object.entries(c.forwarded ?? {})) t.equal(header(be.requests[0], name), value, `forwarded ${name}`);
      // Each backend answer reached the client that asked (upstream answers are "<METHOD> <path> <length>").
      const fromBackend = got.responses.filter((r) => r.status === 200).map((r) => r.body);
      t.same(
        fromBackend,
        be.requests.map((r) => (r.method === 'HEAD' ? '' : `${r.method} ${r.path} ${r.body.length}`)),
        'the client got the answers to its own requests',
      );

      // The next two clients, each on a fresh connection, over the same upstream socket where it was kept.
      for (const who of ['a', 'b']) {
        const path = `/alive-${i}${who}`;
        const next = await exchange(port, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
        t.same(
          next.responses.map((r) => [r.status, r.body]),
          [[200, `GET ${path} 0`]],
          `next client ${who} gets its own answer`,
        );
      }
      t.same(
        be.requests.slice(c.upstream.length).map((r) => r.path),
        [`/alive-${i}a`, `/alive-${i}b`],
        'nothing else reached the backend',
      );
      t.same(be.problems, [], 'the backend found nothing ambiguous in what it got');
    });
  }
});

t.test('a request queued behind a busy upstream socket is still prepared by core', async (t) => {
  const be = await startRecordingBackend(t);
  const { port } = await startGateway(t, {
    upstreams: { be: { targets: [be.url], maxSockets: 1 } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  // Occupy the pool's one socket with a request the backend frames but that is still being sent.
  const hold = net.connect(port, '127.0.0.1');
  hold.on('error', () => undefined);
  hold.write('POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhel');
  await new Promise((r) => setTimeout(r, 150));
  const queued = exchange(
    port,
    'POST /queued HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: x-foo\r\nX-Foo: 1\r\nTE: trailers\r\nContent-Length: 5\r\n\r\nhello',
    { maxMs: 3000 },
  );
  await new Promise((r) => setTimeout(r, 150));
  hold.write('lo12345');
  const got = await queued;
  hold.destroy();
  t.same(
    got.responses.map((r) => [r.status, r.body]),
    [[200, 'POST /queued 5']],
    'the queued request is answered',
  );
  const q = be.requests.find((r) => r.path === '/queued');
  t.equal(header(q, 'x-forwarded-for'), '127.0.0.1', 'core replaced X-Forwarded-For');
  t.equal(header(q, 'x-foo'), null, 'core stripped what Connection named');
  t.same(be.problems, [], 'the backend found nothing ambiguous');
});

t.test('the header-line limit holds on the https listener too', async (t) => {
  const be = await startRecordingBackend(t);
  const dir = t.testdir({});
  const { gw } = await startGateway(t, {
    server: {
      http: { port: 0, host: '127.0.0.1' },
      https: { port: 0, host: '127.0.0.1', selfSigned: { hosts: ['localhost'], dir: join(dir, 'tls') } },
      maxHeaderCount: 10,
    },
    upstreams: { be: { targets: [be.url] } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  const head = (n: number) => `GET /a HTTP/1.1\r\nHost: x\r\n${Array.from({ length: n - 1 }, (_, i) => `X-F${i}: a\r\n`).join('')}\r\n`;
  for (const [n, status] of [
    [10, 200],
    [11, 431],
  ] as const) {
    await t.test(`${n} header lines over TLS: ${status}`, async (t) => {
      const answer = await new Promise<string>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port: gw.addresses.https!.port, rejectUnauthorized: false }, () => s.write(head(n)));
        let text = '';
        s.on('data', (c: Buffer) => {
          text += c.toString('latin1');
          if (/\r\n\r\n[\s\S]*\}|\r\n\r\nGET/.test(text)) s.destroy();
        });
        s.on('close', () => resolve(text));
        s.on('error', () => resolve(text));
        setTimeout(() => s.destroy(), 1500);
      });
      t.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), `status ${status}`);
      if (status === 431) expectError(t, answer, 'GH_ERR_HEADERS_TOO_LARGE');
    });
  }
  t.same(
    be.requests.map((r) => r.path),
    ['/a'],
    'only the request within the limit reached the backend',
  );
});
