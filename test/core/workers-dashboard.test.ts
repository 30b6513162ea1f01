import http from 'node:http';
import t from 'tap';
import { deadPort, request, startBackend } from '../helpers/servers';
import { until } from '../helpers/gatehouse-process';
import { CLUSTER_TOKEN, startCluster } from '../helpers/cluster';
import { axeViolations, newPage, screenshot, startBrowser } from '../helpers/browser';

/**
 * The dashboard under `server.workers: 2`: the primary serves /ui, and what it shows is the
 * workers' (core/server/cluster-dashboard.ts), read through its HTTP API as the page reads it.
 */

type State = {
  workers: { slot: number; state: string; worker: number | null; requests: number; errors: number; missing?: string }[];
  upstreams: Record<string, { targets: { url: string; healthy: boolean; picks: number; unhealthyIn: number[] }[] }>;
};
type PluginState = { plugin: string; instance: string; metrics: { name: string; labels: Record<string, string>; value: number }[] };
type Series = Record<string, { t: number[]; requests: number[]; p50: number[]; p99: number[] }>;

/** Log in with the form: the session cookie. */
async function login(admin: string): Promise<string> {
  const res = await request(`${admin}/ui/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: CLUSTER_TOKEN }).toString(),
  });
  return String(res.headers['set-cookie'] ?? '').split(';')[0];
}

/** The first `history` event of the dashboard's event stream (then the stream is closed). */
function history(admin: string, cookie: string): Promise<Series> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${admin}/ui/api/events`, { headers: { cookie } }, (res) => {
      let buf = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        buf += chunk;
        const m = /event: history\ndata: (.*)\n\n/.exec(buf);
        if (!m) return;
        req.destroy();
        resolve((JSON.parse(m[1]) as { routes: Series }).routes);
      });
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('no history event within 10 s')));
  });
}

t.test('the dashboard shows every worker', async (t) => {
  const be = await startBackend(t, (_req, res) => res.end('ok'));
  const gone = `http://127.0.0.1:${await deadPort()}`;
  const c = await startCluster(t, {
    server: { workerHeader: true },
    log: { level: 'info', accessLog: false },
    upstreams: {
      app: { targets: [be.url] },
      gone: { targets: [gone], healthCheck: { path: '/health', intervalMs: 200, timeoutMs: 500, unhealthy: 1, healthy: 1 } },
    },
    routes: [
      { name: 'gone', match: { path: '/gone/' }, upstream: 'gone' },
      {
        name: 'secure',
        match: { path: '/secure/' },
        upstream: 'app',
        plugins: [{ 'jwt-auth': { algorithms: ['HS256'], secret: 's'.repeat(64) } }],
      },
      { name: 'app', match: { path: '/' }, upstream: 'app' },
    ],
  });
  const admin = `http://127.0.0.1:${c.gh.adminPort}`;
  const cookie = await login(admin);
  t.ok(cookie.startsWith('gatehouse_ui='), 'logged in to the primary');
  const state = async () => {
    const res = await request(`${admin}/ui/api/state`, { headers: { cookie } });
    if (res.status !== 200) throw new Error(`/ui/api/state answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as State;
  };
  const ids = c.started().map((s) => s.id);
  const N = 30;
  const served = new Set<number>();
  for (let i = 0; i < N; i++) {
    const res = await request(`${c.url}/r${i}`);
    t.equal(res.status, 200);
    served.add(Number(res.headers['gatehouse-worker']));
  }
  t.same([...served].sort(), [...ids].sort(), 'both workers served some');

  t.test('requests counted in every worker, summed, per worker id', async (t) => {
    let s = await state();
    // Collected once a second after each worker closes the second.
    await until(async () => (s = await state()).workers.reduce((n, w) => n + w.requests, 0) === N, 10000, 200);
    t.equal(
      s.workers.reduce((n, w) => n + w.requests, 0),
      N,
      'total across workers',
    );
    t.same(s.workers.map((w) => w.worker).sort(), [...ids].sort(), 'both worker ids');
    t.ok(
      s.workers.every((w) => w.state === 'running' && w.requests > 0 && !w.missing),
      'each running, each served some, none missing',
    );
    const routes = await history(admin, cookie);
    t.equal(
      routes.app.requests.reduce((a, b) => a + b, 0),
      N,
      'the charts history sums the workers',
    );
    const busy = routes.app.requests.map((n, i) => [n, routes.app.p99[i]]).filter(([n]) => n > 0);
    t.ok(
      busy.every(([, p99]) => p99 > 0),
      'a latency for every second with requests',
    );
  });

  t.test('a target down in the workers is shown down, naming them', async (t) => {
    let s = await state();
    await until(async () => (s = await state()).upstreams.gone?.targets[0]?.unhealthyIn.length === ids.length, 10000, 200);
    t.match(s.upstreams.gone.targets[0], { url: `${gone}/`, healthy: false });
    t.equal(s.upstreams.gone.targets.length, 1, 'one entry per target, not per worker');
    t.same([...s.upstreams.gone.targets[0].unhealthyIn].sort(), [...ids].sort());
    t.match(s.upstreams.app.targets[0], { url: `${be.url}/`, healthy: true, picks: N });
    t.same(s.upstreams.app.targets[0].unhealthyIn, []);
  });

  t.test('in a browser: the workers table, a target unhealthy in the workers', async (t) => {
    const browser = await startBrowser(t);
    if (!browser) return;
    const { page } = await newPage(browser);
    await page.goto(`${admin}/ui/login`);
    await page.getByLabel('Admin token').fill(CLUSTER_TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForSelector('#live:text("Live")');
    for (const id of ids) await page.waitForSelector(`#workers-table tr[data-worker="${id}"] td[data-field="requests"]`);
    const counts = await page.$$eval('#workers-table td[data-field="requests"]', (cells) => cells.map((c) => Number(c.textContent)));
    t.equal(
      counts.reduce((a, b) => a + b, 0),
      N,
      'the rows sum to what was sent',
    );
    await page.waitForSelector(`tr[data-route="app"] td[data-field="requests"]:text("${N}")`);
    t.same(await axeViolations(page), [], 'axe: overview with workers');
    await screenshot(page, 'workers-overview-desktop');
    await page.click('nav a[href="#upstreams"]');
    const health = page.locator(`section[data-upstream="gone"] tr[data-target="${gone}/"] [data-field="health"]`);
    await health.locator('.badge.bad').waitFor();
    t.equal(await health.textContent(), `unhealthy (workers ${[...ids].sort((a, b) => a - b).join(', ')})`, 'naming both workers');
    t.ok(await page.isVisible('#upstreams-merged'), 'says the view is merged');
    t.same(await axeViolations(page), [], 'axe: upstreams with workers');
  });

  t.test("the plugins page shows the workers' series, summed (the primary serves no requests)", async (t) => {
    const M = 12;
    const servedBy = new Set<number>();
    for (let i = 0; i < M; i++) {
      const res = await request(`${c.url}/secure/${i}`);
      t.equal(res.status, 401, 'no token: refused');
      servedBy.add(Number(res.headers['gatehouse-worker']));
    }
    t.equal(servedBy.size, ids.length, 'refused by both workers');
    const missing = async () => {
      const res = await request(`${admin}/ui/api/state`, { headers: { cookie } });
      const jwt = (JSON.parse(res.body) as { plugins: PluginState[] }).plugins.find((p) => p.plugin === 'jwt-auth');
      return jwt?.metrics.find((m) => m.name === 'gatehouse_jwt_auth_verifications_total' && m.labels.outcome === 'missing')?.value;
    };
    let got: number | undefined;
    await until(async () => (got = await missing()) === M, 5000, 200).catch(() => undefined);
    t.equal(got, M, 'verifications_total{outcome="missing"} is the sum over the workers');
  });

  t.test('a worker that does not answer is reported missing, not waited for', async (t) => {
    const stopped = c.started()[0];
    process.kill(stopped.pid, 'SIGSTOP');
    t.teardown(() => process.kill(stopped.pid, 'SIGCONT'));
    let s = await state();
    const began = Date.now();
    await until(async () => (s = await state()).workers.some((w) => w.missing), 10000, 200);
    t.ok(Date.now() - began < 8000, 'within the asks bound');
    const w = s.workers.find((x) => x.worker === stopped.id)!;
    t.match(w.missing, /did not answer/);
    t.notOk(s.workers.find((x) => x.worker !== stopped.id)!.missing, 'the other one answers');
    t.ok(s.upstreams.app, 'upstreams as the other worker sees them');
    process.kill(stopped.pid, 'SIGCONT');
    await until(async () => !(await state()).workers.some((x) => x.missing), 10000, 200);
    t.pass('answers again once resumed');
  });
});
