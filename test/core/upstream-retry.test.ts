import net from 'node:net';
import t from 'tap';
import { request, startBackend } from '../helpers/servers';
import { fileGateway, namedBackend, tally } from '../helpers/upstream-fixtures';

async function deadUrl(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

t.test('retries go to another target, only when safe', async (t) => {
  const dead = await deadUrl();
  const ok = await startBackend(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(`ok ${req.method} ${Buffer.concat(chunks).length}`));
  });
  const seen = { ok: 0, reset: 0, unavailable: 0 };
  ok.server.prependListener('request', () => seen.ok++);
  // Reads the whole request, then cuts the connection: the upstream may have acted on it.
  const reset = await startBackend(t, (req) => {
    seen.reset++;
    req.resume();
    req.on('end', () => req.socket.destroy());
  });
  const unavailable = await namedBackend(t, 'unavailable', { status: 503 });
  const retry = { attempts: 2 };
  const { url } = await fileGateway(t, {
    upstreams: {
      dead: { targets: [dead, ok.url], retry },
      reset: { targets: [reset.url, ok.url], retry },
      unavailable: { targets: [unavailable.url, ok.url], retry },
      no503: { targets: [unavailable.url, ok.url], retry: { on: ['connect-failure'] } },
      posts: { targets: [reset.url, ok.url], retry: { nonIdempotent: true } },
    },
    routes: ['dead', 'reset', 'unavailable', 'no503', 'posts'].map((u) => ({ match: { path: `/${u}` }, upstream: u })),
  });
  const big = 'x'.repeat(100 * 1024);
  const cases = [
    { desc: 'GET after a connect failure: retried', path: '/dead', method: 'GET', body: undefined, status: 200, reset: 0 },
    {
      desc: 'POST after a connect failure (nothing was sent): retried, sent once',
      path: '/dead',
      method: 'POST',
      body: 'abc',
      status: 200,
      reset: 0,
      answer: 'ok POST 3',
    },
    { desc: 'GET after a reset: retried', path: '/reset', method: 'GET', body: undefined, status: 200, reset: 1 },
    {
      desc: 'PUT with a 1 KiB body after a reset: retried with the body',
      path: '/reset',
      method: 'PUT',
      body: 'y'.repeat(1024),
      status: 200,
      reset: 1,
      answer: 'ok PUT 1024',
    },
    { desc: 'POST after a reset: not retried (never sent twice)', path: '/reset', method: 'POST', body: 'abc', status: 502, reset: 1 },
    {
      desc: 'PUT with a 100 KiB body (beyond the replay buffer): not retried',
      path: '/reset',
      method: 'PUT',
      body: big,
      status: 502,
      reset: 1,
    },
    {
      desc: 'nonIdempotent: POST after a reset retried',
      path: '/posts',
      method: 'POST',
      body: 'abc',
      status: 200,
      reset: 1,
      answer: 'ok POST 3',
    },
    { desc: 'a 503 answer: retried', path: '/unavailable', method: 'GET', body: undefined, status: 200, reset: 0 },
    { desc: 'a 503 answer where retry.on leaves it out: passed on', path: '/no503', method: 'GET', body: undefined, status: 503, reset: 0 },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const before = { ...seen };
      // Round robin: each pair's first target comes first every other request, so of two
      // requests one meets it first (and fails, or is retried) and one does not.
      const statuses: number[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await request(`${url}${c.path}`, {
          method: c.method,
          body: c.body,
          headers: c.body ? { 'content-type': 'text/plain' } : {},
        });
        statuses.push(res.status);
        if (c.answer && res.status === 200) t.equal(res.body, c.answer, 'the body went through intact');
      }
      t.same(statuses.sort(), c.status === 200 ? [200, 200] : [200, c.status], 'statuses');
      t.equal(seen.reset - before.reset, c.reset, 'the resetting backend saw it as often as expected');
      if (c.method === 'POST' && c.status === 502)
        t.equal(seen.ok - before.ok, 1, 'the POST that was reset was not sent to the other target');
    });
  }
});

t.test('the retry budget keeps retries to a share of requests under a dead target', async (t) => {
  const dead = await deadUrl();
  const ok = await namedBackend(t, 'ok');
  const { url } = await fileGateway(t, {
    upstreams: { be: { targets: [dead, ok.url], retry: { attempts: 2, budgetPercent: 20 } } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  const got = await tally(`${url}/`, 200, { concurrency: 1 });
  const retried = ok.count - 100;
  t.ok(retried <= 200 * 0.2 + 3, `retries within 20% of 200 requests and 3 (${retried})`);
  t.ok(retried >= 30, `the budget was used (${retried})`);
  t.equal(got.ok, ok.count, 'every retry answered');
  t.equal(got['status 502'], 200 - ok.count, 'the rest failed rather than hammer the dead target');
});
