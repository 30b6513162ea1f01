import t, { type Test } from 'tap';
import { createGateway } from '../../app';
import { expectError } from '../helpers/errors';
import { captureLogger, request, startBackend, startGateway } from '../helpers/servers';

const TOKEN = 'test-admin-token-0123456789';

t.test('admin API: health open, everything else behind the bearer token', async (t) => {
  const be = await startBackend(t);
  const { gw, url, adminUrl } = await startGateway(t, {
    admin: { token: TOKEN },
    upstreams: { be: { targets: [be.url] }, secretive: { targets: ['http://user:hunter2@127.0.0.1:9'] } },
    routes: [{ name: 'all', match: { path: '/' }, upstream: 'be', plugins: [] }],
  });
  t.equal(gw.addresses.admin!.address, '127.0.0.1', 'admin listens on loopback by default');
  await request(`${url}/x`);

  const auth = { authorization: `Bearer ${TOKEN}` };
  const cases: {
    desc: string;
    path: string;
    method?: string;
    headers?: Record<string, string>;
    status: number;
    code?: string;
    check?: (t: Test, body: string) => void;
  }[] = [
    { desc: 'healthz needs no token', path: '/healthz', status: 200 },
    { desc: 'readyz needs no token', path: '/readyz', status: 200 },
    { desc: 'metrics without a token', path: '/metrics', status: 401, code: 'GH_ERR_UNAUTHORIZED' },
    { desc: 'wrong token', path: '/metrics', headers: { authorization: 'Bearer nope' }, status: 401, code: 'GH_ERR_UNAUTHORIZED' },
    {
      desc: 'token of the right length but wrong',
      path: '/metrics',
      headers: { authorization: `Bearer ${TOKEN.replace(/.$/, 'x')}` },
      status: 401,
      code: 'GH_ERR_UNAUTHORIZED',
    },
    { desc: 'token without Bearer', path: '/metrics', headers: { authorization: TOKEN }, status: 401, code: 'GH_ERR_UNAUTHORIZED' },
    {
      desc: 'metrics with the token',
      path: '/metrics',
      headers: auth,
      status: 200,
      check: (t, b) => {
        t.match(b, /gatehouse_requests_total\{route="all",method="GET",status="200"\} 1/, 'request counter');
        t.match(b, /gatehouse_request_duration_seconds_bucket\{le="[\d.]+",route="all",upstream="be"\}/, 'duration histogram');
        t.match(b, /gatehouse_upstream_open_sockets\{upstream="be"\} \d/, 'open sockets gauge');
        t.match(b, /gatehouse_process_cpu_seconds_total/, 'process metrics');
      },
    },
    {
      desc: 'config is redacted',
      path: '/config',
      headers: auth,
      status: 200,
      check: (t, b) => {
        t.notMatch(b, TOKEN, 'admin token not shown');
        t.notMatch(b, 'hunter2', 'URL credentials not shown');
        t.match(JSON.parse(b).config.admin.token, '[redacted]');
      },
    },
    {
      desc: 'routes',
      path: '/routes',
      headers: auth,
      status: 200,
      check: (t, b) => t.match(JSON.parse(b), [{ name: 'all', upstream: 'be' }]),
    },
    {
      desc: 'upstreams',
      path: '/upstreams',
      headers: auth,
      status: 200,
      check: (t, b) => t.match(JSON.parse(b), { be: { targets: [`${be.url}/`] } }),
    },
    { desc: 'unknown endpoint', path: '/nope', headers: auth, status: 404, code: 'GH_ERR_NOT_FOUND' },
    { desc: 'reload needs POST', path: '/reload', headers: auth, status: 405, code: 'GH_ERR_METHOD_NOT_ALLOWED' },
  ];
  for (const c of cases) {
    // In order: the metrics case counts the one request made above, and nothing since.
    await t.test(c.desc, async (t) => {
      const res = await request(`${adminUrl}${c.path}`, { method: c.method ?? 'GET', headers: c.headers });
      t.equal(res.status, c.status, 'status');
      if (c.code) expectError(t, res, c.code);
      c.check?.(t, res.body);
    });
  }
});

t.test('X-Forwarded-For is believed only from trusted proxies', async (t) => {
  const be = await startBackend(t);
  const cases = [
    { desc: 'untrusted peer: chain replaced by the peer', trust: [], xff: '6.6.6.6', want: '127.0.0.1', client: '127.0.0.1' },
    {
      desc: 'trusted peer (CIDR): chain kept and extended',
      trust: ['127.0.0.0/8'],
      xff: '203.0.113.7',
      want: '203.0.113.7, 127.0.0.1',
      client: '203.0.113.7',
    },
    {
      desc: 'trusted peer: rightmost untrusted hop is the client',
      trust: ['127.0.0.1', '10.0.0.0/8'],
      xff: '6.6.6.6, 198.51.100.2, 10.1.1.1',
      want: '6.6.6.6, 198.51.100.2, 10.1.1.1, 127.0.0.1',
      client: '198.51.100.2',
    },
    {
      desc: 'trusted peer, garbage in the chain: the peer is the client',
      trust: ['127.0.0.1'],
      xff: 'not-an-ip',
      want: 'not-an-ip, 127.0.0.1',
      client: '127.0.0.1',
    },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const { logger, lines } = captureLogger('info');
      const gw = await createGateway({
        config: {
          server: { http: { port: 0, host: '127.0.0.1' }, trustProxy: c.trust },
          upstreams: { be: { targets: [be.url] } },
          routes: [{ match: { path: '/' }, upstream: 'be' }],
        },
        logger,
      });
      t.teardown(() => gw.close(100));
      await gw.listen();
      const res = await request(`http://127.0.0.1:${gw.addresses.http!.port}/`, { headers: { 'x-forwarded-for': c.xff } });
      t.equal(JSON.parse(res.body).headers['x-forwarded-for'], c.want, 'forwarded chain');
      await gw.close(100); // the access line is written once the request is done; closing waits for it
      t.equal(lines.filter((l) => l?.access).pop()?.client_ip, c.client, 'client IP in the access log');
    });
  }
});
