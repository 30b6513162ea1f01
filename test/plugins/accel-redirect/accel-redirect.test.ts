import { randomBytes } from 'node:crypto';
import t from 'tap';
import { createGateway } from '../../../app';
import { normalizePath } from '../../../plugins/accel-redirect/locations';
import { expectError } from '../../helpers/errors';
import { fetchBuffer, sha256, startArchive } from '../../helpers/pacifica';
import { request, startBackend, startGateway, testLogger } from '../../helpers/servers';

t.test('accel-redirect: gatehouse follows X-Accel-Redirect like nginx', async (t) => {
  const big = randomBytes(3 * 1024 * 1024 + 7);
  const small = Buffer.from('0123456789abcdef');
  const archive = await startArchive(t, { 1: small, big, text: small, notype: small, 'keep/1': small });
  const appRequests: { method?: string; url?: string }[] = [];
  const app = await startBackend(t, (req, res) => {
    appRequests.push({ method: req.method, url: req.url });
    req.resume();
    const accel = (to: string, headers: Record<string, string | string[]> = {}) =>
      res
        .writeHead(200, {
          'x-accel-redirect': to,
          'content-disposition': 'attachment; filename="from-app.bin"',
          'content-type': 'application/x-app',
          'content-length': 0,
          ...headers,
        })
        .end();
    switch (req.url) {
      case '/file':
        return accel('/archivei_accel/1', { 'set-cookie': ['a=1', 'b=2'], 'x-accel-buffering': 'no', 'x-app': 'dropped' });
      case '/big':
        return accel('/archivei_accel/big');
      case '/text':
        return accel('/archivei_accel/text');
      case '/notype':
        return accel('/archivei_accel/notype');
      case '/missing':
        return accel('/archivei_accel/nothing-here');
      case '/query':
        return accel('/archivei_accel/1?version=2');
      case '/keep-it':
        return accel('/keep/1');
      case '/chain':
        return accel('/app-internal/chain');
      case '/app-internal/chain':
        return accel('/archivei_accel/1', { 'x-app': 'second' });
      case '/unmapped':
        return accel('/elsewhere/1');
      case '/unsafe':
        return accel('/archivei_accel/../secret');
      case '/unsafe-encoded':
        return accel('/archivei_accel/%2e%2e/secret');
      case '/relative':
        return accel('archivei_accel/1');
      default:
        return res
          .writeHead(200, { 'content-type': 'text/plain', 'x-accel-buffering': 'no', 'x-accel-expires': '10' })
          .end(`app ${req.method} ${req.url}`);
    }
  });
  const { gw, url } = await startGateway(t, {
    upstreams: { app: { targets: [app.url] }, archive: { targets: [archive.url] } },
    routes: [
      {
        match: { path: '/' },
        upstream: 'app',
        plugins: [
          {
            'accel-redirect': {
              locations: {
                '/archivei_accel/': { upstream: 'archive' },
                '/keep': { target: archive.url, stripPrefix: false },
                '/app-internal/': { upstream: 'app', stripPrefix: false },
              },
            },
          },
        ],
      },
    ],
  });

  t.test("a redirected answer is replaced by the internal location's, streamed", async (t) => {
    const res = await fetchBuffer(`${url}/big`);
    t.equal(res.status, 200, 'status');
    t.equal(sha256(res.body), sha256(big), 'a few MB byte for byte');
    t.equal(res.headers['content-length'], String(big.length), "the internal answer's Content-Length, not the redirecting one's 0");
    t.equal(archive.requests.at(-1)!.url, '/big', 'prefix stripped');
  });

  t.test('headers, methods and paths by case', async (t) => {
    const cases = [
      {
        desc: 'kept headers from the redirecting answer; X-Accel-* and others dropped',
        path: '/file',
        status: 200,
        body: small.toString(),
        headers: {
          'content-disposition': 'attachment; filename="from-app.bin"',
          'content-type': 'application/octet-stream',
          'set-cookie': ['a=1', 'b=2'],
          etag: '"v1"',
        },
        absent: ['x-accel-redirect', 'x-accel-buffering', 'x-app'],
        archiveUrl: '/1',
      },
      {
        desc: "the internal answer's Content-Type wins",
        path: '/text',
        status: 200,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'content-disposition': 'attachment; filename="from-app.bin"' },
      },
      {
        desc: "the redirecting answer's Content-Type when the internal one has none",
        path: '/notype',
        status: 200,
        headers: { 'content-type': 'application/x-app' },
      },
      {
        desc: 'Range reaches the internal location: 206',
        path: '/file',
        reqHeaders: { range: 'bytes=2-5' },
        status: 206,
        body: '2345',
        headers: { 'content-range': `bytes 2-5/${small.length}` },
      },
      { desc: 'Range past the end: 416', path: '/file', reqHeaders: { range: 'bytes=99-' }, status: 416 },
      { desc: 'HEAD stays HEAD', path: '/file', method: 'HEAD', status: 200, body: '', archiveMethod: 'HEAD' },
      {
        desc: 'POST becomes a body-less GET',
        path: '/file',
        method: 'POST',
        send: 'payload',
        status: 200,
        body: small.toString(),
        archiveMethod: 'GET',
      },
      { desc: 'the query string is kept', path: '/query', status: 200, archiveUrl: '/1?version=2' },
      {
        desc: 'stripPrefix: false keeps the path, a target URL works',
        path: '/keep-it',
        status: 200,
        body: small.toString(),
        archiveUrl: '/keep/1',
      },
      {
        desc: 'an internal error status passes through, without the kept disposition',
        path: '/missing',
        status: 404,
        absent: ['content-disposition'],
      },
      {
        desc: 'a redirect from an internal answer is not followed',
        path: '/chain',
        status: 200,
        body: '',
        headers: { 'x-app': 'second' },
        absent: ['x-accel-redirect'],
      },
      { desc: 'no location for the path: 502', path: '/unmapped', status: 502, code: 'GH_ERR_ACCEL_REDIRECT_INVALID' },
      { desc: 'dot segments: 502', path: '/unsafe', status: 502, code: 'GH_ERR_ACCEL_REDIRECT_INVALID' },
      { desc: 'encoded dot segments: 502', path: '/unsafe-encoded', status: 502, code: 'GH_ERR_ACCEL_REDIRECT_INVALID' },
      { desc: 'a relative path: 502', path: '/relative', status: 502, code: 'GH_ERR_ACCEL_REDIRECT_INVALID' },
      {
        desc: 'no X-Accel-Redirect: the answer passes through, X-Accel-* stripped',
        path: '/plain',
        status: 200,
        body: 'app GET /plain',
        absent: ['x-accel-buffering', 'x-accel-expires'],
      },
    ];
    for (const c of cases) {
      // One at a time: each case reads the archive's request log from where the last one left it.
      await t.test(c.desc, async (t) => {
        const before = archive.requests.length;
        const res = await request(`${url}${c.path}`, { method: c.method ?? 'GET', headers: c.reqHeaders, body: c.send });
        t.equal(res.status, c.status, 'status');
        if (c.body !== undefined) t.equal(res.body, c.body, 'body');
        for (const [k, v] of Object.entries(c.headers ?? {})) t.same(res.headers[k], v, k);
        for (const k of c.absent ?? []) t.notOk(res.headers[k], `no ${k}`);
        if (c.archiveUrl) t.equal(archive.requests.at(-1)!.url, c.archiveUrl, 'archive URL');
        if (c.archiveMethod) t.equal(archive.requests.at(-1)!.method, c.archiveMethod, 'archive method');
        if (c.archiveMethod === 'GET' && c.send) t.notOk(archive.requests.at(-1)!.headers['content-length'], 'no body sent');
        if (c.code) {
          expectError(t, res, c.code, c.status);
          t.equal(archive.requests.length, before, 'nothing fetched');
        }
      });
    }
  });

  t.test('internal prefixes are unreachable from outside', async (t) => {
    // 404 from the plugin; 400 where core refuses an ambiguous path before any route runs.
    const cases = [
      { desc: 'the prefix itself', path: '/archivei_accel/1', status: 404, code: 'GH_ERR_NOT_FOUND' },
      { desc: 'without the trailing slash', path: '/archivei_accel', status: 404, code: 'GH_ERR_NOT_FOUND' },
      { desc: 'a prefix without trailing slash in the config', path: '/keep/1', status: 404, code: 'GH_ERR_NOT_FOUND' },
      { desc: 'percent-encoded letters', path: '/%61rchivei_accel/1', status: 404, code: 'GH_ERR_NOT_FOUND' },
      { desc: 'an encoded slash', path: '/archivei_accel%2F1', status: 400, code: 'GH_ERR_BAD_REQUEST' },
      { desc: 'dot segments', path: '/x/../archivei_accel/1', status: 404, code: 'GH_ERR_NOT_FOUND' },
      { desc: 'a dot segment at the start', path: '/./archivei_accel/1', status: 404, code: 'GH_ERR_NOT_FOUND' },
      { desc: 'a double slash inside (merged by core)', path: '/x/..//archivei_accel/1', status: 404, code: 'GH_ERR_NOT_FOUND' },
      { desc: 'a backslash', path: '/x/..\\archivei_accel/1', status: 400, code: 'GH_ERR_BAD_REQUEST' },
    ];
    const appBefore = appRequests.length;
    const archiveBefore = archive.requests.length;
    for (const c of cases) {
      await t.test(c.desc, async (t) => {
        // `path` is sent as written: a URL string would have its dot segments resolved by the client.
        const res = await request(url, { path: c.path });
        t.equal(res.status, c.status, `${c.status}`);
        expectError(t, res, c.code);
      });
    }
    t.equal(appRequests.length, appBefore, 'the app never saw them');
    t.equal(archive.requests.length, archiveBefore, 'nor the archive');
    const near = await request(`${url}/archivei_acceleration/1`);
    t.equal(near.body, 'app GET /archivei_acceleration/1', 'a path merely starting with the same letters is not internal');
    const text = await gw.metrics.registry.metrics();
    t.match(text, /gatehouse_accel_redirect_internal_refused_total\{instance="accel-redirect#1"\} \d+/, 'refusals counted');
    t.match(
      text,
      /gatehouse_accel_redirect_redirects_total\{location="\/archivei_accel\/",instance="accel-redirect#1"\} \d+/,
      'redirects counted per location',
    );
  });
});

t.test('normalizePath', async (t) => {
  const cases = [
    ['/a/b', '/a/b'],
    ['/a//b/', '/a/b'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/../../b', '/b'],
    ['/%61/b', '/a/b'],
    ['/a%2Fb', '/a/b'],
    ['/a%2f..%2fb', '/b'],
    ['/%zz/b', '/%zz/b'],
    ['/a\\..\\b', '/b'],
    ['/', '/'],
  ];
  for (const [input, out] of cases) t.equal(normalizePath(input), out, `${input} → ${out}`);
});

t.test('accel-redirect options are checked at load', async (t) => {
  const cases = [
    { desc: 'locations are required', options: {}, error: /missing required key "locations"/ },
    {
      desc: 'a prefix must be a path',
      options: { locations: { archive: { upstream: 'archive' } } },
      error: /locations: found "archive", expected it to match pattern/,
    },
    {
      desc: 'upstream or target, not both',
      options: { locations: { '/a/': { upstream: 'archive', target: 'http://x' } } },
      error: /locations/,
    },
    { desc: 'one of them is needed', options: { locations: { '/a/': { stripPrefix: true } } }, error: /locations/ },
    {
      desc: 'an undeclared upstream',
      options: { locations: { '/a/': { upstream: 'archiv' } } },
      error: /locations\/\/a\/\/upstream: upstream "archiv" is not declared/,
    },
    { desc: 'an unknown key', options: { locations: { '/a/': { upstream: 'archive' } }, keep: [] }, error: /unknown key "keep"/ },
  ];
  for (const c of cases) {
    const config = {
      upstreams: { archive: { targets: ['http://127.0.0.1:1'] } },
      routes: [{ upstream: 'archive', plugins: [{ 'accel-redirect': c.options }] }],
    };
    await t.rejects(createGateway({ config, logger: testLogger() }), { message: c.error }, c.desc);
  }
});
