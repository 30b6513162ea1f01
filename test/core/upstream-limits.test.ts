import http from 'node:http';
import t from 'tap';
import { request } from '../helpers/servers';
import { fileGateway, namedBackend } from '../helpers/upstream-fixtures';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const route = [{ match: { path: '/' }, upstream: 'be' }];

t.test('maxConnectionsPerTarget is never exceeded under 200 concurrent clients', async (t) => {
  const cases = [
    { desc: 'two targets, limit 3 each', limit: 3, own: undefined, want: [3, 3] },
    { desc: 'limit 4, the second target with its own maxConnections 1', limit: 4, own: 1, want: [4, 1] },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const a = await namedBackend(t, 'a', { delayMs: 15 });
      const b = await namedBackend(t, 'b', { delayMs: 15 });
      const targets = [a.url, c.own ? { url: b.url, maxConnections: c.own } : b.url];
      const { url } = await fileGateway(t, { upstreams: { be: { targets, maxConnectionsPerTarget: c.limit } }, routes: route });
      const agent = new http.Agent({ maxSockets: 200 });
      t.teardown(() => agent.destroy());
      const statuses = await Promise.all(
        Array.from(
          { length: 200 },
          () =>
            new Promise<number>((resolve) =>
              http.get(`${url}/`, { agent }, (res) => res.resume().on('end', () => resolve(res.statusCode!))),
            ),
        ),
      );
      t.equal(statuses.filter((s) => s === 200).length, 200, 'all 200 answered 200 (the rest waited in the queue)');
      t.same([a.maxActive, b.maxActive], c.want, 'each backend saw at most its limit at once, and reached it');
      t.equal(a.count + b.count, 200);
    });
  }
});

t.test('the queue: full, timed out, first in first out, clients that leave, deadlines', async (t) => {
  const slow = await namedBackend(t, 'slow', { delayMs: (req) => Number(new URL(req.url!, 'http://x').searchParams.get('d') ?? 300) });
  const order: string[] = [];
  slow.server.prependListener('request', (req: http.IncomingMessage) => order.push(req.url!));
  const { gw, url } = await fileGateway(t, {
    upstreams: {
      be: { targets: [slow.url], maxConnectionsPerTarget: 1, queue: { max: 3, timeoutMs: 1000 } },
      short: { targets: [slow.url], maxConnectionsPerTarget: 1, queue: { max: 5, timeoutMs: 100 } },
      named: { targets: [slow.url], deadlineHeaders: { absolute: 'x-by', relative: '' } },
    },
    routes: [{ match: { path: '/short' }, upstream: 'short' }, { match: { path: '/named' }, upstream: 'named' }, ...route],
  });
  const pool = gw.upstreams.get('be')!;
  const code = (r: { body: string }) => (r.body.startsWith('{') ? JSON.parse(r.body).error.code : r.body);

  await t.test('full: beyond max waiting, 503 GH_ERR_UPSTREAM_QUEUE_FULL at once', async (t) => {
    const all = Array.from({ length: 6 }, (_, i) => request(`${url}/?d=150&i=${i}`));
    const got = await Promise.all(all);
    t.same(got.map((r) => r.status).sort(), [200, 200, 200, 200, 503, 503]);
    t.same(got.filter((r) => r.status === 503).map(code), ['GH_ERR_UPSTREAM_QUEUE_FULL', 'GH_ERR_UPSTREAM_QUEUE_FULL']);
  });

  await t.test('served first in, first out', async (t) => {
    order.length = 0;
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 4; i++) {
      all.push(request(`${url}/?d=40&i=${i}`));
      await sleep(10);
    }
    await Promise.all(all);
    t.same(
      order.map((u) => new URL(u, 'http://x').searchParams.get('i')),
      ['0', '1', '2', '3'],
    );
  });

  await t.test('timed out: 503 GH_ERR_UPSTREAM_QUEUE_TIMEOUT after queue.timeoutMs', async (t) => {
    const first = request(`${url}/short?d=400`);
    await sleep(20);
    const started = Date.now();
    const second = await request(`${url}/short?d=0`);
    const waited = Date.now() - started;
    t.equal(second.status, 503);
    t.equal(code(second), 'GH_ERR_UPSTREAM_QUEUE_TIMEOUT');
    t.ok(waited >= 90 && waited < 350, `answered at the timeout (${waited} ms)`);
    t.equal((await first).status, 200);
  });

  await t.test('a queued request whose client leaves is out of the queue at once and never sent', async (t) => {
    const before = slow.count;
    const first = request(`${url}/?d=300`);
    await sleep(20);
    const gone = http.get(`${url}/?d=0&gone=1`, { agent: false });
    gone.on('error', () => undefined);
    await sleep(30);
    t.equal(pool.queued(), 1, 'waiting');
    gone.destroy();
    await sleep(20);
    t.equal(pool.queued(), 0, 'left the queue when the client went');
    t.equal((await first).status, 200);
    await sleep(50);
    t.equal(slow.count - before, 1, 'only the first reached the backend');
    t.equal(pool.targets[0].active, 0, 'no slot held');
  });

  const cases = [
    {
      desc: 'X-Request-Deadline in the past: 504 at once, nothing sent',
      path: '/?d=0',
      headers: { 'x-request-deadline': String(Date.now() - 1) },
      status: 504,
      code: 'GH_ERR_UPSTREAM_DEADLINE',
    },
    {
      desc: 'X-Request-Timeout 0: 504 at once',
      path: '/?d=0',
      headers: { 'x-request-timeout': '0' },
      status: 504,
      code: 'GH_ERR_UPSTREAM_DEADLINE',
    },
    {
      desc: 'a deadline ahead and a free slot: served',
      path: '/?d=0',
      headers: { 'x-request-timeout': '5000' },
      status: 200,
      code: 'slow',
    },
    {
      desc: 'configured names: x-by in the past',
      path: '/named?d=0',
      headers: { 'x-by': '1' },
      status: 504,
      code: 'GH_ERR_UPSTREAM_DEADLINE',
    },
    {
      desc: 'configured names: x-request-deadline no longer read',
      path: '/named?d=0',
      headers: { 'x-request-deadline': '1' },
      status: 200,
      code: 'slow',
    },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const before = slow.count;
      const res = await request(`${url}${c.path}`, { headers: c.headers });
      t.equal(res.status, c.status);
      t.equal(code(res), c.code);
      if (c.status === 504) t.equal(slow.count, before, 'the backend never saw it');
    });
  }

  await t.test('a deadline that passes in the queue: 504 then, without taking the slot', async (t) => {
    const first = request(`${url}/?d=300`);
    await sleep(20);
    const started = Date.now();
    const res = await request(`${url}/?d=0`, { headers: { 'x-request-timeout': '80' } });
    const waited = Date.now() - started;
    t.equal(res.status, 504);
    t.equal(code(res), 'GH_ERR_UPSTREAM_DEADLINE');
    t.ok(waited < 250, `at the deadline, not the queue timeout (${waited} ms)`);
    await first;
  });
});
