import t from 'tap';
import { request, startBackend, startGateway } from '../helpers/servers';

// A tiny X-Accel-Redirect handler written against the public contract.
const plugin = `
module.exports = {
  name: 'mini-accel',
  schema: { type: 'object', additionalProperties: false, properties: { upstream: { type: 'string' } }, required: ['upstream'] },
  create: (options) => ({
    interceptResponse(ctx, proxyRes) {
      const to = proxyRes.headers['x-accel-redirect'];
      if (!to) return false;
      proxyRes.resume();
      ctx.res.setHeader('content-disposition', proxyRes.headers['content-disposition']);
      return ctx.forward({ upstream: options.upstream, path: to }).then(() => true);
    },
  }),
};`;

t.test('interceptResponse + ctx.forward: a plugin can replace the upstream answer with another upstream request', async (t) => {
  const app = await startBackend(t, (req, res) => {
    if (req.url === '/file')
      res.writeHead(200, { 'x-accel-redirect': '/internal/42', 'content-disposition': 'attachment; filename="a.bin"' }).end();
    else if (req.url === '/boom') res.writeHead(500).end('app error');
    else res.end('plain answer');
  });
  const store = await startBackend(t, (req, res) => {
    let body = 0;
    req.on('data', (c) => (body += c.length));
    req.on('end', () =>
      res
        .writeHead(200, { 'content-type': 'application/octet-stream' })
        .end(`stored ${req.method} ${req.url} body=${body} cl=${req.headers['content-length'] ?? '-'}`),
    );
  });
  const dir = t.testdir({ 'mini-accel.js': plugin });
  const { url } = await startGateway(t, {
    upstreams: { app: { targets: [app.url] }, store: { targets: [store.url] } },
    routes: [{ match: { path: '/' }, upstream: 'app', plugins: [{ [`${dir}/mini-accel.js`]: { upstream: 'store' } }] }],
  });

  const cases = [
    {
      desc: 'redirected: the internal answer streams to the client with the original disposition',
      path: '/file',
      method: 'GET',
      status: 200,
      body: 'stored GET /internal/42 body=0 cl=-',
      disposition: 'attachment; filename="a.bin"',
    },
    {
      desc: 'a POST body is not replayed to the internal location',
      path: '/file',
      method: 'POST',
      send: 'hello',
      status: 200,
      body: 'stored GET /internal/42 body=0 cl=-',
    },
    { desc: 'not claimed: the upstream answer passes through', path: '/other', method: 'GET', status: 200, body: 'plain answer' },
    { desc: 'not claimed error status passes through', path: '/boom', method: 'GET', status: 500, body: 'app error' },
  ];
  for (const c of cases) {
    const res = await request(`${url}${c.path}`, {
      method: c.method,
      body: c.send,
      headers: c.send ? { 'content-type': 'text/plain' } : {},
    });
    t.equal(res.status, c.status, `${c.desc}: status`);
    t.equal(res.body, c.body, `${c.desc}: body`);
    t.notOk(res.headers['x-accel-redirect'], `${c.desc}: no X-Accel-Redirect leaks`);
    if (c.disposition) t.equal(res.headers['content-disposition'], c.disposition, `${c.desc}: disposition kept`);
  }
});
