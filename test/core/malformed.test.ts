import t from 'tap';
import { expectError } from '../helpers/errors';
import { raw, request, startBackend, startGateway } from '../helpers/servers';

const CRLF = '\r\n';
const req = (...lines: string[]) => lines.join(CRLF) + CRLF + CRLF;

// Each case is sent over a raw socket; none may reach the upstream.
const cases: { desc: string; data: string; status: number; code?: string }[] = [
  {
    desc: 'conflicting Content-Length and Transfer-Encoding',
    data: req('POST /x HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Transfer-Encoding: chunked') + '0\r\n\r\n',
    status: 400,
  },
  {
    desc: 'two different Content-Length values',
    data: req('POST /x HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Content-Length: 6') + 'hello',
    status: 400,
  },
  { desc: 'invalid Content-Length', data: req('POST /x HTTP/1.1', 'Host: a', 'Content-Length: abc'), status: 400 },
  { desc: 'unknown transfer coding', data: req('POST /x HTTP/1.1', 'Host: a', 'Transfer-Encoding: gzip, chunked, foo'), status: 400 },
  { desc: 'header name with a space', data: req('GET /x HTTP/1.1', 'Host: a', 'Bad Header: 1'), status: 400 },
  { desc: 'header value with a bare CR', data: req('GET /x HTTP/1.1', 'Host: a', 'X-A: b\rc'), status: 400 },
  {
    desc: 'oversized headers',
    data: req('GET /x HTTP/1.1', 'Host: a', `X-Big: ${'a'.repeat(20000)}`),
    status: 431,
    code: 'GH_ERR_HEADERS_TOO_LARGE',
  },
  { desc: 'missing Host on HTTP/1.1', data: req('GET /x HTTP/1.1'), status: 400, code: 'GH_ERR_BAD_REQUEST' },
  { desc: 'unknown method', data: req('FOO /x HTTP/1.1', 'Host: a'), status: 400, code: 'GH_ERR_BAD_REQUEST' },
  { desc: 'lower-case method', data: req('get /x HTTP/1.1', 'Host: a'), status: 400 },
  { desc: 'TRACE is refused', data: req('TRACE /x HTTP/1.1', 'Host: a'), status: 405, code: 'GH_ERR_METHOD_NOT_ALLOWED' },
  {
    desc: 'CONNECT is refused',
    data: req('CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443'),
    status: 405,
    code: 'GH_ERR_METHOD_NOT_ALLOWED',
  },
  {
    desc: 'absolute-form target (forward proxy use)',
    data: req('GET http://evil.example/x HTTP/1.1', 'Host: evil.example'),
    status: 400,
    code: 'GH_ERR_BAD_REQUEST',
  },
  { desc: 'asterisk-form outside OPTIONS', data: req('GET * HTTP/1.1', 'Host: a'), status: 400 },
  { desc: 'protocol-relative target', data: req('GET //evil.example/x HTTP/1.1', 'Host: a'), status: 400, code: 'GH_ERR_BAD_REQUEST' },
  { desc: 'absurdly long URL', data: req(`GET /${'a'.repeat(9000)} HTTP/1.1`, 'Host: a'), status: 414, code: 'GH_ERR_URI_TOO_LONG' },
  { desc: 'space inside the target', data: req('GET /a b HTTP/1.1', 'Host: a'), status: 400 },
  { desc: 'control character in the target', data: `GET /a\x01b HTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`, status: 400 },
  { desc: 'bad HTTP version', data: req('GET /x HTTP/9.9', 'Host: a'), status: 400 },
  { desc: 'garbage instead of a request line', data: req('\x16\x03\x01 hello'), status: 400 },
  {
    desc: 'invalid chunk size',
    data: req('POST /x HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked') + 'zz\r\nhello\r\n0\r\n\r\n',
    status: 400,
  },
];

t.test('malformed requests get a 4xx and never reach the upstream', async (t) => {
  let reached = 0;
  const be = await startBackend(t, (r, res) => {
    reached++;
    r.resume();
    r.on('end', () => res.end('ok'));
  });
  const { port, url } = await startGateway(t, {
    server: { http: { port: 0, host: '127.0.0.1' }, maxHeaderSize: 16384, maxUrlLength: 8192 },
    upstreams: { be: { targets: [be.url] } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });

  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const answer = await raw(port, c.data);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
      t.equal(status, c.status, `status (got ${JSON.stringify(answer.slice(0, 60))})`);
      // Whatever Node's parser refuses is answered by core's clientError handler: GH_ERR_BAD_REQUEST.
      expectError(t, answer, c.code ?? 'GH_ERR_BAD_REQUEST');
      const alive = await request(`${url}/alive`);
      t.equal(alive.status, 200, 'the proxy lives on');
    });
  }
  t.equal(reached, cases.length, 'only the liveness checks reached the upstream');
});
