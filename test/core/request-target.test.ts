import t from 'tap';
import { normalizePath, removeDotSegments, TargetRefused, withoutParams } from '../../core/server/request-target';
import { expectError } from '../helpers/errors';
import { raw, request, startBackend, startGateway } from '../helpers/servers';

const CRLF = '\r\n';

t.test('normalizePath', async (t) => {
  const cases: { desc: string; path: string; slashes?: 'reject' | 'keep'; want?: string; refused?: RegExp }[] = [
    { desc: 'a plain path is returned as it is', path: '/api/v1/items', want: '/api/v1/items' },
    { desc: 'a dot segment', path: '/api/./x', want: '/api/x' },
    { desc: 'a dot-dot segment', path: '/api/../private/x', want: '/private/x' },
    { desc: 'dot-dot above the root stays at the root', path: '/../../etc/passwd', want: '/etc/passwd' },
    { desc: 'a trailing dot-dot keeps the trailing slash', path: '/a/b/..', want: '/a/' },
    { desc: 'a trailing dot keeps the trailing slash', path: '/a/.', want: '/a/' },
    { desc: 'only dot-dot', path: '/..', want: '/' },
    { desc: 'a file name that starts with a dot is kept', path: '/a/.well-known/x', want: '/a/.well-known/x' },
    { desc: 'three dots are a name, not a segment', path: '/a/.../b', want: '/a/.../b' },
    { desc: '%2e%2e is a dot-dot segment', path: '/api/%2e%2e/private/x', want: '/private/x' },
    { desc: '%2E%2E upper case', path: '/api/%2E%2E/private/x', want: '/private/x' },
    { desc: 'mixed .%2e', path: '/api/.%2e/private', want: '/private' },
    { desc: 'escaped unreserved letters are decoded', path: '/%61pi/x', want: '/api/x' },
    { desc: 'escaped tilde, dash, underscore and digits are decoded', path: '/%7E%2D%5F%31', want: '/~-_1' },
    { desc: 'other escapes are kept, hex upper-cased', path: '/a%20b/%c3%a9', want: '/a%20b/%C3%A9' },
    { desc: 'an escaped question mark stays escaped', path: '/a%3fb', want: '/a%3Fb' },
    { desc: 'empty segments are merged', path: '/a//b///c', want: '/a/b/c' },
    { desc: '%2f is refused by default', path: '/api/..%2fprivate', refused: /encoded slash/ },
    { desc: '%2F is refused by default', path: '/a%2Fb', refused: /encoded slash/ },
    { desc: '%5c (backslash) is refused by default', path: '/a%5cb', refused: /encoded slash or backslash/ },
    { desc: 'a raw backslash is refused by default', path: '/api\\..\\private', refused: /backslash/ },
    { desc: 'keep: %2f stays opaque inside its segment', path: '/api/..%2fprivate/x', slashes: 'keep', want: '/api/..%2Fprivate/x' },
    { desc: 'keep: a raw backslash is kept', path: '/a\\b', slashes: 'keep', want: '/a\\b' },
    { desc: 'keep: %2e%2e still resolves next to a kept %2f', path: '/a/%2e%2e/b%2fc', slashes: 'keep', want: '/b%2Fc' },
    { desc: 'NUL is refused', path: '/a%00b', refused: /NUL/ },
    { desc: 'a malformed escape is refused', path: '/a%zzb', refused: /malformed/ },
    { desc: 'a truncated escape is refused', path: '/a%2', refused: /malformed/ },
    { desc: 'dot-dot with parameters (Tomcat) is refused', path: '/api/..;/private', refused: /parameters/ },
    { desc: 'dot with parameters is refused', path: '/api/.;x/private', refused: /parameters/ },
    { desc: 'a name with a semicolon is fine', path: '/api/a;v=1', want: '/api/a;v=1' },
    { desc: 'nothing resolves to a protocol-relative path', path: '/.//evil.example/x', want: '/evil.example/x' },
    { desc: 'dot-dot after a doubled slash', path: '/a/b//../c', want: '/a/c' },
  ];
  for (const c of cases) {
    t.test(c.desc, async (t) => {
      const got = normalizePath(c.path, c.slashes ?? 'reject');
      if (c.refused) {
        t.type(got, TargetRefused);
        t.match((got as TargetRefused).reason, c.refused);
      } else t.equal(got, c.want);
    });
  }
});

t.test('withoutParams: what routes match', async (t) => {
  const cases: [string, string][] = [
    ['/api/admin', '/api/admin'],
    ['/api/admin;x/secret', '/api/admin/secret'],
    ['/a;b=c;d/e;f', '/a/e'],
    ['/;x', '/'],
  ];
  for (const [input, want] of cases) await t.test(input, async (t) => t.equal(withoutParams(input), want));
});

t.test('removeDotSegments follows RFC 3986 §5.4 examples', async (t) => {
  // The path parts of the RFC's normal and abnormal examples (base /b/c/d;p).
  const cases: [string, string][] = [
    ['/b/c/./g', '/b/c/g'],
    ['/b/c/g/.', '/b/c/g/'],
    ['/b/c/..', '/b/'],
    ['/b/c/../g', '/b/g'],
    ['/b/c/../..', '/'],
    ['/b/c/../../g', '/g'],
    ['/b/c/../../../g', '/g'],
    ['/./g', '/g'],
    ['/b/c/g.', '/b/c/g.'],
    ['/b/c/..g', '/b/c/..g'],
    ['/b/c/./../g', '/b/g'],
    ['/b/c/./g/.', '/b/c/g/'],
    ['/b/c/g/./h', '/b/c/g/h'],
    ['/b/c/g/../h', '/b/c/h'],
  ];
  for (const [input, want] of cases) t.test(input, async (t) => t.equal(removeDotSegments(input), want));
});

t.test('route rules see the normalised path, and the upstream gets it', async (t) => {
  const be = await startBackend(t);
  const rules = (encodedSlashes: string) => ({
    server: { http: { port: 0, host: '127.0.0.1' }, encodedSlashes },
    upstreams: { be: { targets: [be.url] } },
    routes: [
      { name: 'private', match: { path: '/private' }, plugins: [{ respond: { status: 403, body: 'blocked' } }] },
      { name: 'api', match: { path: '/api' }, upstream: 'be' },
      { name: 'rest', match: { path: '/' }, plugins: [{ respond: { status: 404, body: 'none' } }] },
    ],
  });
  const strict = await startGateway(t, rules('reject'));
  const lax = await startGateway(t, rules('keep'));
  const cases: { desc: string; path: string; keep?: boolean; status: number; upstreamUrl?: string; body?: RegExp; code?: string }[] = [
    { desc: 'dot-dot out of /api reaches the private rule', path: '/api/../private/x', status: 403, body: /blocked/ },
    { desc: '%2e%2e out of /api reaches the private rule', path: '/api/%2e%2e/private/x', status: 403 },
    { desc: '%2E%2E out of /api reaches the private rule', path: '/api/%2E%2E/private/x', status: 403 },
    { desc: 'escaped letters cannot dodge the private rule', path: '/%70rivate/x', status: 403 },
    { desc: 'path parameters cannot dodge the private rule', path: '/private;jsessionid=1/x', status: 403 },
    { desc: 'doubled slashes cannot dodge the private rule', path: '/api/..//private/x', status: 403 },
    { desc: 'path parameters reach the upstream as sent', path: '/api/a;v=1/b', status: 200, upstreamUrl: '/api/a;v=1/b' },
    { desc: 'doubled slashes reach the upstream merged', path: '/api//a///b', status: 200, upstreamUrl: '/api/a/b' },
    { desc: '..%2f is refused by default', path: '/api/..%2fprivate/x', status: 400, code: 'GH_ERR_BAD_REQUEST', body: /encoded slash/ },
    {
      desc: '%2e%2e%2f is refused by default',
      path: '/api/%2e%2e%2fprivate/x',
      status: 400,
      code: 'GH_ERR_BAD_REQUEST',
      body: /encoded slash/,
    },
    {
      desc: 'keep: ..%2f stays inside /api, forwarded opaque',
      path: '/api/..%2fprivate/x',
      keep: true,
      status: 200,
      upstreamUrl: '/api/..%2Fprivate/x',
    },
    {
      desc: 'the upstream gets the resolved path and the query as sent',
      path: '/api/./a/../b?q=%2e%2e/x',
      status: 200,
      upstreamUrl: '/api/b?q=%2e%2e/x',
    },
    { desc: 'the upstream gets decoded unreserved escapes', path: '/%61pi/%7Euser', status: 200, upstreamUrl: '/api/~user' },
    { desc: 'a plain path is forwarded verbatim', path: '/api/x?y=1', status: 200, upstreamUrl: '/api/x?y=1' },
  ];
  for (const c of cases) {
    t.test(c.desc, async (t) => {
      const gw = c.keep ? lax : strict;
      const answer = await raw(gw.port, `GET ${c.path} HTTP/1.1${CRLF}Host: a${CRLF}Connection: close${CRLF}${CRLF}`);
      t.equal(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]), c.status, `status (${answer.slice(0, 40)})`);
      if (c.body) t.match(answer, c.body);
      if (c.code) expectError(t, answer, c.code);
      if (c.upstreamUrl) t.equal(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).url, c.upstreamUrl);
    });
  }
});

t.test('Host headers and HTTP versions that a backend could read differently are refused', async (t) => {
  let reached = 0;
  const be = await startBackend(t, (req, res) => {
    reached++;
    res.end('ok');
  });
  const { port, url } = await startGateway(t, {
    upstreams: { be: { targets: [be.url] } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  const cases: { desc: string; data: string; status: number; body?: RegExp }[] = [
    { desc: 'two Host headers', data: `GET / HTTP/1.1${CRLF}Host: a${CRLF}Host: b${CRLF}`, status: 400, body: /more than one Host/ },
    {
      desc: 'two Host headers in different case',
      data: `GET / HTTP/1.1${CRLF}Host: a${CRLF}HOST: a${CRLF}`,
      status: 400,
      body: /more than one Host/,
    },
    { desc: 'a space in Host', data: `GET / HTTP/1.1${CRLF}Host: a b${CRLF}`, status: 400, body: /invalid Host/ },
    { desc: 'userinfo in Host', data: `GET / HTTP/1.1${CRLF}Host: user@evil.example${CRLF}`, status: 400, body: /invalid Host/ },
    { desc: 'an unclosed IPv6 literal', data: `GET / HTTP/1.1${CRLF}Host: [::1${CRLF}`, status: 400, body: /invalid Host/ },
    { desc: 'a path in Host', data: `GET / HTTP/1.1${CRLF}Host: a.example/x${CRLF}`, status: 400, body: /invalid Host/ },
    { desc: 'a non-numeric port', data: `GET / HTTP/1.1${CRLF}Host: a.example:http${CRLF}`, status: 400, body: /invalid Host/ },
    { desc: 'a fragment in the target', data: `GET /x#y HTTP/1.1${CRLF}Host: a${CRLF}`, status: 400, body: /fragment/ },
    { desc: 'HTTP/0.9', data: `GET /${CRLF}`, status: 400 },
    { desc: 'host and port', data: `GET / HTTP/1.1${CRLF}Host: a.example:8080${CRLF}`, status: 200 },
    { desc: 'an IPv6 literal with a port', data: `GET / HTTP/1.1${CRLF}Host: [::1]:8080${CRLF}`, status: 200 },
    { desc: 'an IPv4 address', data: `GET / HTTP/1.1${CRLF}Host: 127.0.0.1${CRLF}`, status: 200 },
    { desc: 'HTTP/1.0 without Host', data: `GET / HTTP/1.0${CRLF}`, status: 200 },
  ];
  let expectedReached = 0;
  for (const c of cases) {
    t.test(c.desc, async (t) => {
      const answer = await raw(port, `${c.data}Connection: close${CRLF}${CRLF}`);
      t.equal(Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1]), c.status, `status (${JSON.stringify(answer.slice(0, 40))})`);
      if (c.body) t.match(answer, c.body);
      if (c.status === 400) expectError(t, answer, 'GH_ERR_BAD_REQUEST');
      if (c.status === 200) expectedReached++;
      t.equal(reached, expectedReached, 'only the accepted requests reached the upstream');
      t.equal((await request(`${url}/alive`)).status, 200, 'the proxy lives on');
      expectedReached++;
    });
  }
});

t.test('client-address headers from untrusted peers are dropped, from trusted ones kept', async (t) => {
  const be = await startBackend(t);
  const config = (trustProxy: string[]) => ({
    server: { http: { port: 0, host: '127.0.0.1' }, trustProxy },
    upstreams: { be: { targets: [be.url] } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  const untrusted = await startGateway(t, config([]));
  const trusted = await startGateway(t, config(['127.0.0.1']));
  const sent = {
    forwarded: 'for=6.6.6.6;proto=https',
    'x-real-ip': '6.6.6.6',
    'x-forwarded-port': '443',
    'x-forwarded-prefix': '/admin',
    'x-original-url': '/admin',
    'x-client-ip': '6.6.6.6',
    'true-client-ip': '6.6.6.6',
    x_forwarded_for: '6.6.6.6',
    'x-real_ip': '6.6.6.6',
    'cf-connecting-ip': '6.6.6.6',
    'x-kept': 'yes',
  };
  const cases: { desc: string; url: string; kept: boolean }[] = [
    { desc: 'untrusted peer: dropped', url: untrusted.url, kept: false },
    { desc: 'trusted peer: passed on', url: trusted.url, kept: true },
  ];
  for (const c of cases) {
    t.test(c.desc, async (t) => {
      const seen = JSON.parse((await request(`${c.url}/x`, { headers: sent })).body).headers;
      for (const [name, value] of Object.entries(sent)) {
        if (name === 'x-kept') t.equal(seen[name], value, 'an ordinary header is always kept');
        else t.equal(seen[name], c.kept ? value : undefined, name);
      }
    });
  }
});
