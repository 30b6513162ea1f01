import http from 'node:http';
import t from 'tap';
import { expectError } from '../helpers/errors';
import { deadPort, request, startBackend, startGateway } from '../helpers/servers';

t.test('upstream failures map to 502/504 JSON with a code', async (t) => {
  const slow = await startBackend(t, (_req, res) => setTimeout(() => res.end('late'), 1500));
  const reset = await startBackend(t, (req) => req.socket.destroy());
  const midway = await startBackend(t, (_req, res) => {
    res.writeHead(200, { 'content-length': 1000 });
    res.write('partial');
    setTimeout(() => res.socket?.destroy(), 50);
  });
  const dead = await deadPort();
  const { gw, url } = await startGateway(t, {
    upstreams: {
      dead: { targets: [`http://127.0.0.1:${dead}`] },
      slow: { targets: [slow.url], timeout: 300 },
      reset: { targets: [reset.url] },
      midway: { targets: [midway.url] },
    },
    routes: ['dead', 'slow', 'reset', 'midway'].map((u) => ({ match: { path: `/${u}` }, upstream: u })),
  });

  const cases = [
    {
      desc: 'connection refused → 502',
      path: '/dead',
      status: 502,
      code: 'GH_ERR_UPSTREAM_UNREACHABLE',
      kind: 'connect',
      upstream: 'dead',
    },
    {
      desc: 'no answer within the timeout → 504',
      path: '/slow',
      status: 504,
      code: 'GH_ERR_UPSTREAM_TIMEOUT',
      kind: 'timeout',
      upstream: 'slow',
    },
    {
      desc: 'connection reset before headers → 502',
      path: '/reset',
      status: 502,
      code: 'GH_ERR_UPSTREAM_UNREACHABLE',
      kind: 'reset',
      upstream: 'reset',
    },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const started = Date.now();
      const res = await request(`${url}${c.path}`);
      t.equal(res.status, c.status, 'status');
      expectError(t, res, c.code);
      if (c.kind === 'timeout') t.ok(Date.now() - started < 1200, 'answered at the timeout, not when the upstream finished');
    });
  }

  // Headers already sent: the only honest signal is a cut connection, never a clean short body.
  const cut = await new Promise<string>((resolve) => {
    http
      .get(`${url}/midway`, { agent: false }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve('ended cleanly'));
        res.on('error', () => resolve('aborted'));
        res.on('aborted', () => resolve('aborted'));
      })
      .on('error', () => resolve('aborted'));
  });
  t.equal(cut, 'aborted', 'a body cut short upstream is cut short for the client');

  const metrics = await gw.metrics.registry.metrics();
  for (const c of cases)
    t.match(metrics, `gatehouse_upstream_errors_total{upstream="${c.upstream}",kind="${c.kind}"} 1`, `${c.desc}: counted`);
  t.match(metrics, /gatehouse_requests_total\{route="route-0",method="GET",status="502"\} 1/, 'request counted with its status');
});

t.test('a route with no upstream where no plugin answers gives 502 GH_ERR_NO_UPSTREAM', async (t) => {
  const dir = t.testdir({
    'pass.js':
      "module.exports = { name: 'pass', schema: { type: 'object', additionalProperties: false }, create: () => ({ handle: async function pass(ctx, next) { await next(); } }) };",
  });
  const { url } = await startGateway(t, { routes: [{ match: { path: '/' }, plugins: [{ [`${dir}/pass.js`]: {} }] }] });
  const res = await request(`${url}/x`);
  t.equal(res.status, 502);
  expectError(t, res, 'GH_ERR_NO_UPSTREAM');
});
