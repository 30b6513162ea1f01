import http from 'node:http';
import t from 'tap';
import { request, startBackend, startGateway } from '../helpers/servers';

/** Open sockets to the upstream as the gateway reports them (the exposed gauge). */
async function gauge(gw: { metrics: { registry: { metrics(): Promise<string> } } }): Promise<number> {
  const m = /gatehouse_upstream_open_sockets\{upstream="be"\} (\d+)/.exec(await gw.metrics.registry.metrics());
  return m ? Number(m[1]) : 0;
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

t.test('clients that abort release their upstream sockets at once', async (t) => {
  // /stream sends a chunk every 20 ms for a long time; /stall answers after 5 s.
  const be = await startBackend(t, (req, res) => {
    if (req.url === '/stall') {
      const timer = setTimeout(() => res.end('late'), 5000);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('x'.repeat(1024)), 20);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.end('ok');
  });
  const backendConnections = () => new Promise<number>((r) => be.server.getConnections((_e, n) => r(n)));
  const { gw, url } = await startGateway(t, {
    log: { accessLog: false },
    upstreams: { be: { targets: [be.url], maxFreeSockets: 4 } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });

  await request(`${url}/warm`);
  const baseline = await gauge(gw);
  t.ok(baseline <= 1, `baseline is at most one idle keep-alive socket (got ${baseline})`);

  const rounds = [
    { desc: 'abort mid-response', path: '/stream', abortOn: 'response' as const },
    { desc: 'abort before the response headers', path: '/stall', abortOn: 'timer' as const },
  ];
  for (const round of rounds) {
    await t.test(round.desc, async (t) => {
      const N = 40;
      await Promise.all(
        Array.from(
          { length: N },
          () =>
            new Promise<void>((resolve) => {
              const req = http.get(`${url}${round.path}`, { agent: false }, (res) => {
                res.once('data', () => req.destroy());
              });
              req.on('error', () => undefined);
              req.on('close', () => resolve());
              if (round.abortOn === 'timer') setTimeout(() => req.destroy(), 100);
            }),
        ),
      );
      const back = await until(async () => (await gauge(gw)) <= baseline && (await backendConnections()) <= baseline, 2000);
      t.ok(back, `open sockets back to baseline (gauge ${await gauge(gw)}, backend ${await backendConnections()}, baseline ${baseline})`);
    });
  }
  const metrics = await gw.metrics.registry.metrics();
  t.match(metrics, /gatehouse_upstream_errors_total\{upstream="be",kind="aborted"\} (\d+)/, 'client aborts are counted');
  t.match(metrics, /gatehouse_requests_total\{route="route-0",method="GET",status="499"\}/, 'aborted before an answer: logged as 499');

  const after = await request(`${url}/ok`);
  t.equal(after.status, 200, 'the proxy still serves afterwards');
});
