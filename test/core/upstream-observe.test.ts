import t from 'tap';
import { request } from '../helpers/servers';
import { fileGateway, namedBackend } from '../helpers/upstream-fixtures';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TOKEN = 'observe-test-token-0123456789';

t.test('per-target metrics and GET /upstreams', async (t) => {
  const ok = await namedBackend(t, 'ok', { delayMs: (req) => (req.url!.startsWith('/slow') ? 2500 : 1) });
  const bad = await namedBackend(t, 'bad', { status: 503 });
  const { gw, url } = await fileGateway(t, {
    admin: { port: 0, token: TOKEN },
    upstreams: {
      be: {
        targets: [bad.url, ok.url],
        outlier: { consecutiveFailures: 1, ejectMs: 60000 },
        retry: { attempts: 1 },
        maxConnectionsPerTarget: 1,
      },
    },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  const admin = `http://127.0.0.1:${gw.addresses.admin!.port}`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  t.equal((await request(`${url}/`)).status, 200, 'the 503 was retried on ok');
  for (let i = 0; i < 3; i++) t.equal((await request(`${url}/`)).body, 'ok', 'bad is ejected: ok only');
  // The slow request holds ok's one slot for 2.5 s (time enough on a loaded machine) and one waits behind it.
  const slow = request(`${url}/slow`);
  await sleep(50);
  const queued = request(`${url}/`);
  await sleep(50);

  const metrics = (await request(`${admin}/metrics`, { headers: auth })).body;
  const value = (name: string, target?: string) => {
    const m = new RegExp(`^${name}\\{upstream="be"${target ? `,target="${target}/"` : ''}\\} ([0-9.e-]+)$`, 'm').exec(metrics);
    return m ? Number(m[1]) : undefined;
  };
  const cases = [
    { desc: 'picks of bad', name: 'gatehouse_upstream_target_picks_total', target: bad.url, want: 1 },
    { desc: 'picks of ok (retry, three more, the slow one)', name: 'gatehouse_upstream_target_picks_total', target: ok.url, want: 5 },
    { desc: 'bad retried away once', name: 'gatehouse_upstream_target_retries_total', target: bad.url, want: 1 },
    { desc: 'bad ejected once', name: 'gatehouse_upstream_target_ejections_total', target: bad.url, want: 1 },
    { desc: 'bad not healthy (ejected)', name: 'gatehouse_upstream_target_healthy', target: bad.url, want: 0 },
    { desc: 'ok healthy', name: 'gatehouse_upstream_target_healthy', target: ok.url, want: 1 },
    { desc: 'ok has the slow request in flight', name: 'gatehouse_upstream_target_inflight', target: ok.url, want: 1 },
    { desc: 'one request queued behind it', name: 'gatehouse_upstream_queued_requests', target: undefined, want: 1 },
  ];
  for (const c of cases) await t.test(c.desc, async (t) => t.equal(value(c.name, c.target), c.want));
  t.ok((value('gatehouse_upstream_target_latency_ewma_seconds', ok.url) ?? 0) > 0, 'a latency EWMA measured');

  const state = JSON.parse((await request(`${admin}/upstreams`, { headers: auth })).body).be;
  t.match(state, {
    balance: 'round-robin',
    queued: 1,
    panic: false,
    targets: [
      { url: `${bad.url}/`, ejected: true, ejections: 1, retries: 1, picks: 1, inflight: 0 },
      { url: `${ok.url}/`, ejected: false, healthy: true, inflight: 1, picks: 5 },
    ],
  });
  t.ok(state.targets[1].latencyEwmaMs > 0, '/upstreams shows the EWMA');
  await slow;
  await queued;
});
