/**
 * The request-smuggling (HTTP desync) cases of desync.test.ts, by class. Every smuggled
 * request aims at /blocked (answered 403 by the gateway itself) or /smuggled: the backend
 * must never frame either, whatever the client sent.
 */

/** One attack (or control) and what must come of it. */
export interface DesyncCase {
  desc: string;
  data: string;
  /** Final statuses the client gets on its connection, in order. */
  status: number[];
  /** `METHOD /path` of each request the backend frames, in order. */
  upstream: string[];
  /** Bodies the backend must receive for those requests. */
  bodies?: string[];
  /** Error code in the first answer. */
  code?: string;
  /** The gateway must close the client connection after answering. */
  close?: boolean;
  /** The first request is a HEAD (its answer has no body). */
  head?: boolean;
  /** Interim (1xx) answers expected before the final one. */
  interim?: number[];
  /** Header values the first upstream request must carry (null: absent). */
  forwarded?: Record<string, string | null>;
}

const CRLF = '\r\n';
/** A request head from lines, ended by the empty line. */
const H = (...lines: string[]) => lines.join(CRLF) + CRLF + CRLF;
const SMUGGLED = H('GET /smuggled HTTP/1.1', 'Host: x');
const BLOCKED = H('GET /blocked HTTP/1.1', 'Host: x');
const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;
const LAST = '0\r\n\r\n';

const bad = (desc: string, data: string, code = 'GH_ERR_BAD_REQUEST'): DesyncCase => ({
  desc,
  data,
  status: [400],
  upstream: [],
  code,
  close: true,
});
const ok = (desc: string, data: string, upstream: string, body: string, forwarded?: DesyncCase['forwarded']): DesyncCase => ({
  desc,
  data,
  status: [200],
  upstream: [upstream],
  bodies: [body],
  forwarded,
});

export const CASES: DesyncCase[] = [
  // --- CL.TE and TE.CL: both framing headers (RFC 9112 §6.3: reject or let TE win; Node rejects)
  bad(
    'CL.TE: Content-Length then Transfer-Encoding',
    H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 6', 'Transfer-Encoding: chunked') + LAST + 'G',
  ),
  bad(
    'TE.CL: Transfer-Encoding then Content-Length',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Content-Length: 3') + '8\r\nSMUGGLED\r\n' + LAST,
  ),
  bad(
    'CL.TE with a whole smuggled request',
    H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 44', 'Transfer-Encoding: chunked') + LAST + BLOCKED,
  ),
  bad(
    'CL.TE with Content-Length: 0',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Content-Length: 0') + chunk('hello') + LAST,
  ),
  bad(
    'TE.CL on GET',
    H('GET /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Content-Length: 4') + '5c\r\n' + BLOCKED + '\r\n' + LAST,
  ),

  // --- TE.TE: obfuscated Transfer-Encoding
  bad('TE: xchunked', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: xchunked') + chunk('hello') + LAST),
  bad('TE: chunked, identity', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked, identity') + chunk('hello') + LAST),
  bad('TE: identity alone', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: identity') + 'hello'),
  bad('TE: chunked, chunked', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked, chunked') + chunk('hello') + LAST),
  bad(
    'two TE lines: chunked, chunked',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked') + chunk('hello') + LAST,
  ),
  bad(
    'two TE lines: chunked, then identity',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Transfer-Encoding: identity') + chunk('hello') + LAST,
  ),
  bad('TE with a space before the colon', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding : chunked') + chunk('hello') + LAST),
  bad('TE with a tab before the colon', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding\t: chunked') + chunk('hello') + LAST),
  bad('TE value on an obs-fold line', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding:', ' chunked') + chunk('hello') + LAST),
  bad('TE name then LF and a folded colon', 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding\n : chunked\r\n\r\n' + chunk('hello') + LAST),
  bad('TE value with a vertical tab', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: \x0bchunked') + chunk('hello') + LAST),
  bad('TE value with a NUL', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked\0') + chunk('hello') + LAST),
  ok(
    'TE with a leading space (plain OWS)',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding:  chunked') + chunk('hello') + LAST,
    'POST /a',
    'hello',
    { 'transfer-encoding': 'chunked' },
  ),
  ok(
    'TE with a leading tab (plain OWS)',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding:\tchunked') + chunk('hello') + LAST,
    'POST /a',
    'hello',
    { 'transfer-encoding': 'chunked' },
  ),
  ok(
    'TE with trailing spaces',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked  ') + chunk('hello') + LAST,
    'POST /a',
    'hello',
    { 'transfer-encoding': 'chunked' },
  ),
  ok(
    'TE: CHUNKED (upper case) is forwarded lower case',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: CHUNKED') + chunk('hello') + LAST,
    'POST /a',
    'hello',
    { 'transfer-encoding': 'chunked' },
  ),
  ok(
    'TE: gzip, chunked keeps its codings',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: gzip,CHUNKED') + chunk('hello') + LAST,
    'POST /a',
    'hello',
    { 'transfer-encoding': 'gzip, chunked', 'content-length': null },
  ),
  // The first request has no body and is served; "0" is a malformed second one, answered after it.
  {
    desc: 'Transfer_Encoding (underscore) frames nothing; the rest is a bad second request',
    data: H('POST /a HTTP/1.1', 'Host: x', 'Transfer_Encoding: chunked') + LAST + BLOCKED,
    status: [200, 400],
    upstream: ['POST /a'],
    bodies: [''],
  },
  {
    desc: 'garbage pipelined behind a GET is refused after its answer',
    data: H('GET /a HTTP/1.1', 'Host: x') + 'GET /blocked HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n',
    status: [200, 400],
    upstream: ['GET /a'],
    bodies: [''],
  },

  // --- Content-Length variants
  bad('two equal Content-Length lines', H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 5', 'Content-Length: 5') + 'hello'),
  bad(
    'two different Content-Length lines',
    H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 5', 'Content-Length: 49') + 'hello' + SMUGGLED,
  ),
  bad('Content-Length list "5, 5"', H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 5, 5') + 'hello'),
  bad('signed Content-Length +5', H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: +5') + 'hello'),
  bad('negative Content-Length', H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: -1') + 'hello'),
  bad('hex Content-Length 0x5', H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 0x5') + 'hello'),
  bad('decimal point in Content-Length', H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 5.0') + 'hello'),
  bad('space inside Content-Length', H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 5 5') + 'hello'),
  bad('empty Content-Length', H('POST /a HTTP/1.1', 'Host: x', 'Content-Length:') + 'hello'),
  bad('Content-Length past 2^64', H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 99999999999999999999999') + 'hello'),
  bad('Content-Length with a space before the colon', H('POST /a HTTP/1.1', 'Host: x', 'Content-Length : 5') + 'hello'),
  bad('Content-Length on an obs-fold line', H('POST /a HTTP/1.1', 'Host: x', 'X-A: b', ' Content-Length: 5') + 'hello'),
  ok(
    'leading-zero Content-Length is forwarded canonical',
    H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 005') + 'hello',
    'POST /a',
    'hello',
    { 'content-length': '5' },
  ),
  ok('space-padded Content-Length', H('POST /a HTTP/1.1', 'Host: x', 'Content-Length:   5   ') + 'hello', 'POST /a', 'hello', {
    'content-length': '5',
  }),
  ok('Content-Length: 0 with a POST', H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 0'), 'POST /a', '', { 'content-length': '0' }),

  // --- chunk syntax
  bad(
    'chunk size overflow (huge hex)',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + 'fffffffffffffffff5\r\nhello\r\n' + LAST,
  ),
  bad('chunk size 2^64', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '10000000000000000\r\nhello\r\n' + LAST),
  bad('chunk size with 0x', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '0x5\r\nhello\r\n' + LAST),
  bad('negative chunk size', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '-5\r\nhello\r\n' + LAST),
  bad('chunk size with a trailing space', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '5 \r\nhello\r\n' + LAST),
  bad('chunk lines ended by bare LF', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '5\nhello\n0\n\n'),
  bad('chunk data longer than its size', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '3\r\nhello\r\n' + LAST),
  bad('chunk extension with a bare LF', H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '5;a\nb\r\nhello\r\n' + LAST),
  bad(
    'Content-Length in the trailers',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + chunk('hello') + '0\r\nContent-Length: 49\r\n\r\n' + SMUGGLED,
  ),
  ok(
    'leading zeros in a chunk size',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '0005\r\nhello\r\n' + LAST,
    'POST /a',
    'hello',
  ),
  ok(
    'chunk extension is not forwarded',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '5;ext=1\r\nhello\r\n' + LAST,
    'POST /a',
    'hello',
  ),
  ok(
    'quoted chunk extension',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + '5;a="b;c"\r\nhello\r\n' + LAST,
    'POST /a',
    'hello',
  ),
  ok(
    'trailers are not forwarded',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + chunk('hello') + '0\r\nX-T: 1\r\n\r\n',
    'POST /a',
    'hello',
  ),
  ok(
    'a request inside chunk data stays data',
    H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + chunk(SMUGGLED) + LAST,
    'POST /a',
    SMUGGLED,
  ),

  // --- line endings, NUL, whitespace
  bad('bare LF line endings', 'GET /a HTTP/1.1\nHost: x\n\n'),
  bad('bare CR inside a header line', H('GET /a HTTP/1.1', 'Host: x', 'X-A: b\rTransfer-Encoding: chunked')),
  bad('bare CR ending the request line', 'GET /a HTTP/1.1\rHost: x\r\n\r\n'),
  bad('NUL in a header value', H('GET /a HTTP/1.1', 'Host: x', 'X-A: a\0b')),
  bad('NUL in a header name', H('GET /a HTTP/1.1', 'Host: x', 'X-\0A: b')),
  bad('NUL in the target', H('GET /a\0/b HTTP/1.1', 'Host: x')),
  bad('obs-fold continuation line', H('GET /a HTTP/1.1', 'Host: x', 'X-A: b', ' c')),
  bad('space before the colon', H('GET /a HTTP/1.1', 'Host: x', 'X-A : b')),
  bad('space inside a header name', H('GET /a HTTP/1.1', 'Host: x', 'Bad Header: b')),

  // --- Connection naming framing headers (issue 9)
  bad(
    "Connection: content-length on a GET (the issue's case)",
    H('GET /api/a HTTP/1.1', 'Host: x', 'Connection: content-length', 'Content-Length: 35') + SMUGGLED,
  ),
  bad(
    'Connection: Content-Length on a POST',
    H('POST /a HTTP/1.1', 'Host: x', 'Connection: Content-Length', 'Content-Length: 38') + BLOCKED,
  ),
  bad(
    'Connection: keep-alive, Content-Length',
    H('GET /a HTTP/1.1', 'Host: x', 'Connection: keep-alive, Content-Length', 'Content-Length: 38') + BLOCKED,
  ),
  bad(
    'Connection: padded CONTENT-LENGTH',
    H('GET /a HTTP/1.1', 'Host: x', 'Connection:  keep-alive ,\t CONTENT-LENGTH ', 'Content-Length: 38') + BLOCKED,
  ),
  bad(
    'Connection: transfer-encoding with a chunked body',
    H('POST /a HTTP/1.1', 'Host: x', 'Connection: transfer-encoding', 'Transfer-Encoding: chunked') + chunk(BLOCKED) + LAST,
  ),
  bad(
    'Connection: Transfer-Encoding on a DELETE',
    H('DELETE /a HTTP/1.1', 'Host: x', 'Connection: Transfer-Encoding', 'Transfer-Encoding: chunked') + chunk(BLOCKED) + LAST,
  ),
  bad('Connection: host', H('GET /a HTTP/1.1', 'Host: x', 'Connection: host')),
  bad('Connection: close, HOST', H('GET /a HTTP/1.1', 'Host: x', 'Connection: close, HOST')),
  bad(
    'second Connection line naming content-length',
    H('GET /a HTTP/1.1', 'Host: x', 'Connection: keep-alive', 'Connection: content-length', 'Content-Length: 38') + BLOCKED,
  ),
  bad(
    'Connection: content-length with the body pipelined after a request',
    H('GET /a HTTP/1.1', 'Host: x', 'Connection: content-length', 'Content-Length: 0') + BLOCKED,
  ),
  ok('Connection: te strips TE', H('GET /a HTTP/1.1', 'Host: x', 'Connection: te', 'TE: trailers'), 'GET /a', '', { te: null }),
  ok('Connection: x-foo strips X-Foo', H('GET /a HTTP/1.1', 'Host: x', 'Connection: x-foo', 'X-Foo: 1', 'X-Bar: 2'), 'GET /a', '', {
    'x-foo': null,
    'x-bar': '2',
  }),
  ok(
    'Connection: x-forwarded-for cannot keep a spoofed XFF',
    H('GET /a HTTP/1.1', 'Host: x', 'Connection: x-forwarded-for', 'X-Forwarded-For: 6.6.6.6'),
    'GET /a',
    '',
    { 'x-forwarded-for': '127.0.0.1' },
  ),
  ok(
    'Keep-Alive and Proxy-Connection are stripped',
    H('GET /a HTTP/1.1', 'Host: x', 'Keep-Alive: timeout=99', 'Proxy-Connection: keep-alive'),
    'GET /a',
    '',
    { 'keep-alive': null, 'proxy-connection': null },
  ),
  {
    desc: 'upgrade on a route without websocket',
    data: H('GET /a HTTP/1.1', 'Host: x', 'Connection: upgrade', 'Upgrade: websocket'),
    status: [400],
    upstream: [],
    code: 'GH_ERR_UPGRADE_REFUSED',
    close: true,
  },
  bad(
    'upgrade with a Content-Length body',
    H('GET /ws HTTP/1.1', 'Host: x', 'Connection: upgrade', 'Upgrade: websocket', 'Content-Length: 38') + BLOCKED,
  ),
  bad(
    'upgrade with a chunked body',
    H('GET /ws HTTP/1.1', 'Host: x', 'Connection: upgrade', 'Upgrade: websocket', 'Transfer-Encoding: chunked') + chunk(BLOCKED) + LAST,
  ),

  // --- header count (Node frames with all lines, keeps maxHeadersCount)
  ok(
    '100 header lines (the limit)',
    H('GET /a HTTP/1.1', 'Host: x', ...Array.from({ length: 98 }, (_, i) => `X-F${i}: a`), 'Content-Length: 0'),
    'GET /a',
    '',
  ),
  {
    desc: '101 header lines',
    data: H('GET /a HTTP/1.1', 'Host: x', ...Array.from({ length: 99 }, (_, i) => `X-F${i}: a`), 'Content-Length: 0'),
    status: [431],
    upstream: [],
    code: 'GH_ERR_HEADERS_TOO_LARGE',
    close: true,
  },
  {
    desc: "1000 filler lines then a Content-Length (the issue's case)",
    data: H('GET /a HTTP/1.1', 'Host: x', ...Array.from({ length: 1000 }, () => 'a: b'), 'Content-Length: 38') + BLOCKED,
    status: [431],
    upstream: [],
    code: 'GH_ERR_HEADERS_TOO_LARGE',
    close: true,
  },
  {
    desc: '2100 filler lines then Transfer-Encoding',
    data:
      H('POST /a HTTP/1.1', 'Host: x', ...Array.from({ length: 2100 }, () => 'a: b'), 'Transfer-Encoding: chunked') + chunk(BLOCKED) + LAST,
    status: [431],
    upstream: [],
    code: 'GH_ERR_HEADERS_TOO_LARGE',
    close: true,
  },

  // --- pipelining behind a body
  {
    desc: 'two pipelined GETs',
    data: H('GET /a HTTP/1.1', 'Host: x') + H('GET /b HTTP/1.1', 'Host: x'),
    status: [200, 200],
    upstream: ['GET /a', 'GET /b'],
    bodies: ['', ''],
  },
  {
    desc: 'a request pipelined behind a Content-Length body is routed',
    data: H('POST /a HTTP/1.1', 'Host: x', 'Content-Length: 5') + 'hello' + BLOCKED,
    status: [200, 403],
    upstream: ['POST /a'],
    bodies: ['hello'],
  },
  {
    desc: 'a request pipelined behind a chunked body is routed',
    data: H('POST /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + chunk('hello') + LAST + BLOCKED,
    status: [200, 403],
    upstream: ['POST /a'],
    bodies: ['hello'],
  },
  {
    desc: 'a request pipelined behind a GET body is routed',
    data: H('GET /a HTTP/1.1', 'Host: x', 'Content-Length: 5') + 'hello' + BLOCKED,
    status: [200, 403],
    upstream: ['GET /a'],
    bodies: ['hello'],
  },
  {
    desc: 'a request behind an OPTIONS chunked body is routed',
    data: H('OPTIONS /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + chunk('hello') + LAST + BLOCKED,
    status: [200, 403],
    upstream: ['OPTIONS /a'],
    bodies: ['hello'],
  },
  {
    desc: 'a request pipelined after a refused one is not answered',
    data: H('GET /a HTTP/1.1', 'Host: x', 'Connection: content-length') + BLOCKED,
    status: [400],
    upstream: [],
    close: true,
  },

  // --- methods with bodies (http-proxy sets content-length: 0 on a DELETE/OPTIONS without one)
  ok('GET with a Content-Length body', H('GET /a HTTP/1.1', 'Host: x', 'Content-Length: 5') + 'hello', 'GET /a', 'hello', {
    'content-length': '5',
  }),
  ok('GET with a chunked body', H('GET /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + chunk('hello') + LAST, 'GET /a', 'hello', {
    'transfer-encoding': 'chunked',
  }),
  {
    desc: 'HEAD with a Content-Length body',
    data: H('HEAD /a HTTP/1.1', 'Host: x', 'Content-Length: 5') + 'hello',
    status: [200],
    upstream: ['HEAD /a'],
    bodies: ['hello'],
    head: true,
  },
  ok('OPTIONS with a Content-Length body', H('OPTIONS /a HTTP/1.1', 'Host: x', 'Content-Length: 5') + 'hello', 'OPTIONS /a', 'hello'),
  ok(
    'OPTIONS with a chunked body holding a request',
    H('OPTIONS /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + chunk(BLOCKED) + LAST,
    'OPTIONS /a',
    BLOCKED,
    { 'transfer-encoding': 'chunked', 'content-length': null },
  ),
  ok(
    'DELETE with a chunked body holding a request',
    H('DELETE /a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked') + chunk(SMUGGLED) + LAST,
    'DELETE /a',
    SMUGGLED,
    { 'transfer-encoding': 'chunked', 'content-length': null },
  ),
  ok('DELETE with a Content-Length body', H('DELETE /a HTTP/1.1', 'Host: x', 'Content-Length: 5') + 'hello', 'DELETE /a', 'hello', {
    'content-length': '5',
  }),
  ok('DELETE without a body has no body headers', H('DELETE /a HTTP/1.1', 'Host: x'), 'DELETE /a', '', {
    'content-length': null,
    'transfer-encoding': null,
  }),
  ok('GET without a body has no body headers', H('GET /a HTTP/1.1', 'Host: x'), 'GET /a', '', {
    'content-length': null,
    'transfer-encoding': null,
  }),
  ok(
    'HTTP/1.0 POST with a chunked body',
    H('POST /a HTTP/1.0', 'Host: x', 'Transfer-Encoding: chunked') + chunk('hello') + LAST,
    'POST /a',
    'hello',
    { 'transfer-encoding': 'chunked' },
  ),
  {
    desc: 'TRACE with a body',
    data: H('TRACE /a HTTP/1.1', 'Host: x', 'Content-Length: 38') + BLOCKED,
    status: [405],
    upstream: [],
    code: 'GH_ERR_METHOD_NOT_ALLOWED',
  },

  // --- Expect (http-proxy skips its proxyReq event when the request carries one)
  {
    desc: 'Expect: 100-continue with a body',
    data: H('POST /a HTTP/1.1', 'Host: x', 'Expect: 100-continue', 'Content-Length: 5') + 'hello',
    status: [200],
    interim: [100],
    upstream: ['POST /a'],
    bodies: ['hello'],
    forwarded: { expect: null },
  },
  {
    desc: 'Expect: 100-continue cannot carry hop-by-hop headers or a spoofed XFF',
    data:
      H(
        'POST /a HTTP/1.1',
        'Host: x',
        'Expect: 100-continue',
        'X-Forwarded-For: 6.6.6.6',
        'TE: trailers',
        'Connection: x-foo',
        'X-Foo: 1',
        'Content-Length: 5',
      ) + 'hello',
    status: [200],
    interim: [100],
    upstream: ['POST /a'],
    bodies: ['hello'],
    forwarded: { 'x-forwarded-for': '127.0.0.1', te: null, 'x-foo': null },
  },
  {
    desc: 'Expect: 100-continue with a chunked body',
    data: H('POST /a HTTP/1.1', 'Host: x', 'Expect: 100-continue', 'Transfer-Encoding: chunked') + chunk('hello') + LAST,
    status: [200],
    interim: [100],
    upstream: ['POST /a'],
    bodies: ['hello'],
  },
  {
    desc: 'Expect: 100-continue with Connection: content-length',
    data: H('GET /a HTTP/1.1', 'Host: x', 'Expect: 100-continue', 'Connection: content-length', 'Content-Length: 38') + BLOCKED,
    status: [400],
    interim: [100],
    upstream: [],
    close: true,
  },
  {
    desc: 'unknown expectation',
    data: H('POST /a HTTP/1.1', 'Host: x', 'Expect: 200-ok', 'Content-Length: 38') + BLOCKED,
    status: [417],
    upstream: [],
  },
];
