import t from 'tap';
import { request, startBackend, startGateway } from '../helpers/servers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The upstream agent keeps one socket timeout (the upstream `timeout`) and sweeps idle
// sockets after `keepAliveMs` (core/upstream/agent.ts). These pin both halves.
t.test('idle upstream sockets are closed after keepAliveMs; 0 keeps none', async (t) => {
  const be = await startBackend(t, (_req, res) => res.end('ok'));
  const { gw, url } = await startGateway(t, {
    upstreams: { short: { targets: [be.url], keepAliveMs: 200 }, none: { targets: [be.url], keepAliveMs: 0 } },
    routes: [
      { match: { path: '/short' }, upstream: 'short' },
      { match: { path: '/none' }, upstream: 'none' },
    ],
  });
  const open = (name: string) => gw.runtime.pools.get(name)!.openSockets();
  t.equal((await request(`${url}/short`)).status, 200);
  t.equal(open('short'), 1, 'kept after the request');
  await sleep(600);
  t.equal(open('short'), 0, 'closed once idle for keepAliveMs (plus one sweep)');
  t.equal((await request(`${url}/none`)).status, 200);
  await sleep(50);
  t.equal(open('none'), 0, 'keepAliveMs 0: not kept');
});

t.test("a server's short Keep-Alive hint does not shorten the upstream timeout of a reused socket", async (t) => {
  const ports = new Set<number>();
  const be = await startBackend(t, (req, res) => {
    ports.add(req.socket.remotePort!);
    const delay = Number(new URL(req.url!, 'http://x').searchParams.get('delay') ?? 0);
    setTimeout(() => res.end(`waited ${delay}`), delay);
  });
  // Node announces `Keep-Alive: timeout=2`; Node's agent then sets 1 s on the pooled socket.
  be.server.keepAliveTimeout = 2000;
  const { url } = await startGateway(t, {
    upstreams: { be: { targets: [be.url], timeout: 2500 } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });

  const cases = [
    { desc: 'first request opens the socket', delay: 0, status: 200 },
    { desc: 'reused socket, upstream silent 1.5 s (over the hint, under the timeout): answered', delay: 1500, status: 200 },
    { desc: 'reused socket, upstream silent past the timeout: 504 at the timeout', delay: 4000, status: 504 },
  ];
  for (const c of cases) {
    const started = Date.now();
    const res = await request(`${url}/?delay=${c.delay}`);
    t.equal(res.status, c.status, c.desc);
    if (c.status === 504) t.ok(Date.now() - started < 3500, `${c.desc}: not waiting for the upstream`);
  }
  t.equal(ports.size, 1, 'all three went over one pooled socket');
});
