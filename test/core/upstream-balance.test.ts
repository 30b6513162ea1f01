import t from 'tap';
import { definePlugin, type Selector } from '../../app';
import { PowerOfTwo, RingHash, keyOf } from '../../core/upstream/balance';
import { Target } from '../../core/upstream/target';
import { fileGateway, namedBackend, providerPlugin, tally } from '../helpers/upstream-fixtures';

const SETTINGS = { timeout: 1000, maxSockets: 1, maxFreeSockets: 0, keepAliveMs: 0, insecure: false, readBuffer: false };

t.test('each policy honours weights (1:2:3)', async (t) => {
  const backends = await Promise.all(['a', 'b', 'c'].map((n) => namedBackend(t, n)));
  const targets = backends.map((b, i) => ({ url: b.url, weight: i + 1 }));
  const N = 1200;
  const cases = [
    { desc: 'round-robin: exact shares', balance: 'round-robin', tolerance: 0 },
    { desc: 'random: shares within 25%', balance: 'random', tolerance: 0.25 },
    { desc: 'least-request: idle targets tie, so shares follow the weights (within 25%)', balance: 'least-request', tolerance: 0.25 },
    // Equal backends: latency noise decides between two draws (one slow answer makes a target
    // costly for seconds), so the shares are not certain, only that every target is used.
    { desc: 'p2c-ewma: every target used', balance: 'p2c-ewma', tolerance: undefined },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const { url } = await fileGateway(t, {
        upstreams: { be: { targets, balance: c.balance } },
        routes: [{ match: { path: '/' }, upstream: 'be' }],
      });
      const got = await tally(`${url}/`, N, { concurrency: 1 });
      if (c.tolerance === undefined) {
        t.ok((got.a ?? 0) > 0 && (got.b ?? 0) > 0 && (got.c ?? 0) > 0, `every target used (${got.a}, ${got.b}, ${got.c})`);
        return;
      }
      for (const [i, name] of ['a', 'b', 'c'].entries()) {
        const want = (N * (i + 1)) / 6;
        t.ok(Math.abs((got[name] ?? 0) - want) <= want * c.tolerance, `${name}: ${got[name]} of ${N}, want ${want}`);
      }
    });
  }
});

t.test('round-robin is smooth: weights 5,1,1 never send more than 2 in a row to the heavy target', async (t) => {
  const backends = await Promise.all(['a', 'b', 'c'].map((n) => namedBackend(t, n)));
  const { url } = await fileGateway(t, {
    upstreams: { be: { targets: backends.map((b, i) => ({ url: b.url, weight: i === 0 ? 5 : 1 })) } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  const order: string[] = [];
  for (let i = 0; i < 14; i++) order.push(Object.keys(await tally(`${url}/`, 1, { concurrency: 1 }))[0]);
  t.same(order.slice(0, 7), ['a', 'a', 'b', 'a', 'c', 'a', 'a'], "nginx's sequence for 5,1,1");
});

t.test('latency-aware policies send less to a slow target', async (t) => {
  const slow = await namedBackend(t, 'slow', { delayMs: 60 });
  const fast = await Promise.all(['f1', 'f2'].map((n) => namedBackend(t, n, { delayMs: 2 })));
  const cases = [
    { desc: 'p2c-ewma: the slow target gets under 15%', balance: 'p2c-ewma', max: 0.15 },
    { desc: 'least-request (8 concurrent): the slow target gets under 25%', balance: 'least-request', max: 0.25 },
    { desc: 'round-robin: a third each (the control)', balance: 'round-robin', max: 0.34 },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const { url } = await fileGateway(t, {
        upstreams: { be: { targets: [slow.url, ...fast.map((f) => f.url)], balance: c.balance } },
        routes: [{ match: { path: '/' }, upstream: 'be' }],
      });
      const got = await tally(`${url}/`, 300, { concurrency: 8 });
      const share = (got.slow ?? 0) / 300;
      t.ok(share <= c.max, `slow share ${share.toFixed(3)} ≤ ${c.max} (${JSON.stringify(got)})`);
    });
  }
});

t.test('ring-hash: a key sticks to its target; adding one of n moves about 1/(n+1) of keys, all to it', async (t) => {
  const made: Target[] = [];
  const target = (i: number) => {
    const x = new Target(`http://10.0.0.${i}:80/`, { url: '', weight: 1, maxConnections: 0 }, SETTINGS);
    made.push(x);
    return x;
  };
  t.teardown(() => made.forEach((x) => x.retire()));
  const ctxFor = (k: string) => ({ req: { headers: { 'x-user': k } } }) as never;
  const cases = [{ n: 3 }, { n: 4 }, { n: 9 }];
  for (const c of cases) {
    await t.test(`${c.n} → ${c.n + 1} targets`, async (t) => {
      const before = Array.from({ length: c.n }, (_, i) => target(i + 1));
      const after = [...before, target(c.n + 1)];
      const ring = new RingHash(keyOf('header:x-user'));
      const all = () => true;
      const keys = Array.from({ length: 4000 }, (_, i) => `user-${i}`);
      const first = keys.map((k) => ring.pick(before, all, ctxFor(k)));
      t.same(
        keys.slice(0, 50).map((k) => ring.pick(before, all, ctxFor(k))),
        first.slice(0, 50),
        'the same key gets the same target',
      );
      const second = keys.map((k) => ring.pick(after, all, ctxFor(k)));
      const moved = keys.filter((_, i) => first[i] !== second[i]);
      const expected = 1 / (c.n + 1);
      t.ok(Math.abs(moved.length / keys.length - expected) < expected * 0.35, `moved ${moved.length / keys.length} ≈ ${expected}`);
      t.ok(
        keys.every((_, i) => first[i] === second[i] || second[i] === after[c.n]),
        'every moved key went to the new target',
      );
      const spread = new Set(first);
      t.equal(spread.size, c.n, 'keys spread over every target');
    });
  }
});

t.test('ring-hash end to end: by header, cookie, query and path', async (t) => {
  const backends = await Promise.all(['a', 'b', 'c', 'd'].map((n) => namedBackend(t, n)));
  const cases = [
    { hashKey: 'header:x-user', headers: (k: string) => ({ 'x-user': k }), path: '/' },
    { hashKey: 'cookie:sid', headers: (k: string) => ({ cookie: `a=1; sid=${k}; b=2` }), path: '/' },
    { hashKey: 'query:u', headers: () => ({}), path: '/?u=' },
    { hashKey: 'path', headers: () => ({}), path: '/p/' },
  ];
  for (const c of cases) {
    await t.test(c.hashKey, async (t) => {
      const { url } = await fileGateway(t, {
        upstreams: { be: { targets: backends.map((b) => b.url), balance: 'ring-hash', hashKey: c.hashKey } },
        routes: [{ match: { path: '/' }, upstream: 'be' }],
      });
      const seen = new Set<string>();
      // 32 keys: the targets' ring points follow their (random) ports, and 12 keys once all fell
      // on 2 of the 4 (about 6 × 2^-12 with even shares); 32 keys: about 6 × 2^-32.
      for (let k = 0; k < 32; k++) {
        const key = `k${k}`;
        const u = `${url}${c.path}${c.path.endsWith('=') || c.path.endsWith('/p/') ? key : ''}`;
        const got = await tally(u, 3, { concurrency: 1, headers: () => c.headers(key) });
        t.equal(Object.keys(got).length, 1, `${key}: one target for all three`);
        seen.add(Object.keys(got)[0]);
      }
      t.ok(seen.size >= 3, `32 keys over ${seen.size} targets`);
    });
  }
});

t.test('a plugin supplies its own selector through the scope', async (t) => {
  const backends = await Promise.all(['a', 'b', 'c'].map((n) => namedBackend(t, n)));
  const last: Selector = { pick: (targets, usable) => [...targets].reverse().find(usable) };
  const plugin = definePlugin<Record<string, never>>({
    name: 'test-selector',
    schema: { type: 'object', additionalProperties: false },
    create(_o, scope) {
      scope.upstreams.useSelector('be', last);
      return {};
    },
  });
  const config = (plugins: unknown[]) => ({
    upstreams: { be: { targets: backends.map((b) => b.url) } },
    plugins,
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  const { gw, url, write } = await fileGateway(t, config([{ 'test-selector': {} }]), [plugin, providerPlugin([]).definition]);
  t.same(await tally(`${url}/`, 6, { concurrency: 1 }), { c: 6 }, 'the selector chose');
  write(config([]));
  await gw.reload();
  await new Promise((r) => setTimeout(r, 50));
  t.same(await tally(`${url}/`, 6, { concurrency: 1 }), { a: 2, b: 2, c: 2 }, 'once its generation retired, the policy again');
});

t.test('p2c-ewma: a target whose last answer was slow is tried again once its cost decays (it is not starved for ever)', async (t) => {
  const [fast, slow] = [1, 2].map((i) => new Target(`http://10.0.1.${i}:80/`, { url: '', weight: 1, maxConnections: 0 }, SETTINGS));
  t.teardown(() => [fast!, slow!].forEach((x) => x.retire()));
  const now = performance.now();
  fast!.observe(1, now);
  slow!.observe(50, now - 60_000); // one slow answer a minute ago, never picked since
  const cases = [
    { desc: 'decayed towards 0 a minute later', target: slow!, at: now, below: 1 },
    { desc: 'a fresh sample is what it was', target: fast!, at: now, below: 1.0001 },
  ];
  for (const c of cases) t.ok(c.target.latencyAt(c.at) < c.below, `${c.desc}: ${c.target.latencyAt(c.at)} ms`);
  const picks = new Map<Target, number>();
  const p2c = new PowerOfTwo(true);
  for (let i = 0; i < 200; i++) {
    const got = p2c.pick([fast!, slow!], () => true)!;
    picks.set(got, (picks.get(got) ?? 0) + 1);
  }
  t.ok((picks.get(slow!) ?? 0) > 0, `the once-slow target is picked again (${picks.get(slow!) ?? 0} of 200)`);
});
