import t from 'tap';
import { request, startBackend, type Teardown } from '../helpers/servers';
import { fileGateway, namedBackend } from '../helpers/upstream-fixtures';

/** A backend that takes every request and never answers; `head`: it sends the head and a first chunk, then goes silent. */
async function silentBackend(t: Teardown, opts: { head?: boolean } = {}) {
  const seen = { count: 0 };
  const be = await startBackend(t, (req, res) => {
    seen.count++;
    req.resume();
    if (opts.head) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    }
  });
  return Object.assign(seen, { url: be.url });
}

/** Status, or 'cut' when the connection was closed in the middle of the answer. */
async function outcome(url: string, method: string): Promise<number | 'cut'> {
  try {
    const res = await request(url, { method, body: method === 'POST' ? 'abc' : undefined, headers: { 'content-type': 'text/plain' } });
    return res.status;
  } catch {
    return 'cut';
  }
}

t.test('an upstream that takes the request and does not answer within its timeout', async (t) => {
  const silent = await silentBackend(t);
  const stalls = await silentBackend(t, { head: true });
  const ok = await namedBackend(t, 'ok');
  // The upstream timeout: short, the machine is loaded but a local answer takes a few ms.
  const timeout = 300;
  const { url } = await fileGateway(t, {
    upstreams: {
      timed: { targets: [silent.url, ok.url], timeout, retry: { on: ['timeout'] } },
      defaults: { targets: [silent.url, ok.url], timeout, retry: {} },
      only504: { targets: [silent.url, ok.url], timeout, retry: { on: ['504'] } },
      posts: { targets: [silent.url, ok.url], timeout, retry: { on: ['timeout'], nonIdempotent: true } },
      stalls: { targets: [stalls.url, ok.url], timeout, retry: { on: ['timeout'] } },
    },
    routes: ['timed', 'defaults', 'only504', 'posts', 'stalls'].map((u) => ({ match: { path: `/${u}` }, upstream: u })),
  });
  // Round robin over two targets: of two requests in a row, one meets the silent target first.
  const cases = [
    { desc: 'on: [timeout]: a GET is retried on the other target', path: '/timed', method: 'GET', want: [200, 200], silent: 1, ok: 2 },
    {
      desc: 'on: [timeout]: a POST is not (it may have been processed): 504',
      path: '/timed',
      method: 'POST',
      want: [200, 504],
      silent: 1,
      ok: 1,
    },
    { desc: 'the default causes leave timeouts out: 504', path: '/defaults', method: 'GET', want: [200, 504], silent: 1, ok: 1 },
    {
      desc: "on: ['504'] is an upstream's 504 answer, not core's timeout: 504",
      path: '/only504',
      method: 'GET',
      want: [200, 504],
      silent: 1,
      ok: 1,
    },
    { desc: 'nonIdempotent: a POST is retried too', path: '/posts', method: 'POST', want: [200, 200], silent: 1, ok: 2 },
    { desc: 'silent after the head was sent: cut, never retried', path: '/stalls', method: 'GET', want: [200, 'cut'], stalls: 1, ok: 1 },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const before = { silent: silent.count, stalls: stalls.count, ok: ok.count };
      const got: (number | 'cut')[] = [];
      for (let i = 0; i < 2; i++) got.push(await outcome(`${url}${c.path}`, c.method));
      t.same(got.sort(), c.want, 'outcomes');
      t.equal(silent.count - before.silent, c.silent ?? 0, 'the silent target got it as often as expected');
      t.equal(stalls.count - before.stalls, c.stalls ?? 0, 'the stalling target got it as often as expected');
      t.equal(ok.count - before.ok, c.ok, 'the good target got it as often as expected');
    });
  }
});

t.test('timeout retries stay within the retry budget', async (t) => {
  const silent = await silentBackend(t);
  const ok = await namedBackend(t, 'ok');
  // budgetPercent 0: only the 3 retries every window allows whatever the share.
  const { url } = await fileGateway(t, {
    upstreams: { be: { targets: [silent.url, ok.url], timeout: 200, retry: { on: ['timeout'], budgetPercent: 0 } } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  const got: (number | 'cut')[] = [];
  for (let i = 0; i < 10; i++) got.push(await outcome(`${url}/`, 'GET'));
  t.equal(silent.count, 5, 'round robin sent every other first attempt to the silent target');
  t.equal(got.filter((s) => s === 200).length, 8, '5 answered at once, 3 retried within the budget');
  t.equal(got.filter((s) => s === 504).length, 2, 'the rest got the 504, not a retry');
  t.equal(ok.count, 8);
});
