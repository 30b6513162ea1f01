import net from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { expectError } from '../helpers/errors';
import { raw, startGateway, type Teardown } from '../helpers/servers';

// Core writes every upstream answer itself (one writeHead with the filtered headers). These
// cases pin what reaches the client on the wire, from upstreams that answer raw bytes.
interface Case {
  desc: string;
  /** The upstream's raw answer to any request. */
  upstream: string;
  /** The client's raw request (Host is added). */
  request: string;
  /** Patterns the client's raw answer must match / must not match. */
  has: RegExp[];
  hasNot?: RegExp[];
  /** The JSON error answer core must give instead of the upstream's. */
  code?: string;
}

const CRLF = '\r\n';
const answer = (...lines: string[]) => lines.join(CRLF);

const cases: Case[] = [
  {
    desc: 'a custom reason phrase and status reach the client',
    upstream: answer('HTTP/1.1 299 Quite Fine', 'Content-Length: 2', '', 'ok'),
    request: 'GET / HTTP/1.1',
    has: [/^HTTP\/1\.1 299 Quite Fine\r\n/, /\r\n\r\nok$/],
  },
  {
    desc: 'repeated Set-Cookie headers stay separate lines',
    upstream: answer('HTTP/1.1 200 OK', 'Set-Cookie: a=1', 'Set-Cookie: b=2', 'Content-Length: 0', '', ''),
    request: 'GET / HTTP/1.1',
    has: [/\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n/i],
  },
  {
    desc: 'a chunked upstream body is re-chunked for an HTTP/1.1 client',
    upstream: answer('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', '', '5', 'hello', '0', '', ''),
    request: 'GET / HTTP/1.1',
    has: [/\r\ntransfer-encoding: chunked\r\n/i, /\r\n\r\n5\r\nhello\r\n0\r\n\r\n$/],
  },
  {
    desc: 'a chunked upstream body reaches an HTTP/1.0 client unchunked, ended by close',
    upstream: answer('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', '', '5', 'hello', '0', '', ''),
    request: 'GET / HTTP/1.0',
    has: [/\r\nconnection: close\r\n/i, /\r\n\r\nhello$/],
    hasNot: [/transfer-encoding/i],
  },
  {
    desc: "the upstream's Connection: close and Keep-Alive do not reach the client",
    upstream: answer(
      'HTTP/1.1 200 OK',
      'Connection: close, x-private',
      'X-Private: 1',
      'Keep-Alive: timeout=1',
      'Content-Length: 2',
      '',
      'ok',
    ),
    request: 'GET / HTTP/1.1',
    has: [/\r\nconnection: keep-alive\r\n/i],
    hasNot: [/x-private/i, /timeout=1\b/],
  },
  {
    desc: 'HEAD keeps the Content-Length and sends no body',
    upstream: answer('HTTP/1.1 200 OK', 'Content-Length: 12', '', ''),
    request: 'HEAD / HTTP/1.1',
    has: [/\r\ncontent-length: 12\r\n/i, /\r\n\r\n$/],
  },
  {
    desc: 'a status Node cannot relay becomes a JSON 502 naming the upstream answer',
    upstream: answer('HTTP/1.1 099 Odd', 'X-Upstream: 1', 'Content-Length: 2', '', 'ok'),
    request: 'GET / HTTP/1.1',
    has: [/^HTTP\/1\.1 502 Bad Gateway\r\n/],
    code: 'GH_ERR_UPSTREAM_BAD_RESPONSE',
    hasNot: [/x-upstream/i, /Odd/],
  },
  {
    desc: '204 passes with no body',
    upstream: answer('HTTP/1.1 204 No Content', 'X-End: kept', '', ''),
    request: 'GET / HTTP/1.1',
    has: [/^HTTP\/1\.1 204 No Content\r\n/, /\r\nx-end: kept\r\n/i, /\r\n\r\n$/],
  },
];

/** An upstream that answers every request on a connection with the same raw bytes and closes; closed when `t` ends. */
async function rawUpstream(t: Teardown, bytes: string): Promise<{ url: string }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.once('data', () => s.end(bytes));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  t.teardown(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${port}` };
}

for (const c of cases) {
  t.test(c.desc, async (t) => {
    const be = await rawUpstream(t, c.upstream);
    const { port } = await startGateway(t, {
      upstreams: { be: { targets: [be.url] } },
      routes: [{ match: { path: '/' }, upstream: 'be' }],
    });
    // HTTP/1.1 keeps the client connection open: give the answer 400 ms, then look at it.
    const got = await raw(port, `${c.request}${CRLF}Host: test${CRLF}${CRLF}`, 400);
    for (const re of c.has) t.match(got, re, `has ${re}`);
    for (const re of c.hasNot ?? []) t.notMatch(got, re, `has not ${re}`);
    if (c.code) expectError(t, got, c.code);
  });
}
