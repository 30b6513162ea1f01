import t from 'tap';
import { HIST_BUCKETS, RING_MAX_ROUTES, RING_SECONDS, SampleRing, quantileOf } from '../../core/observe/sample-ring';

// The dashboard's per-second ring: a clock the test moves, so rolling is exact.
function ringAt(startMs: number) {
  let now = startMs;
  const ring = new SampleRing(() => now);
  return { ring, at: (ms: number) => (now = ms) };
}

t.test('rolling closes the second before now', async (t) => {
  const cases: { desc: string; run: (ring: SampleRing) => void; sec: number; want: Record<string, number> }[] = [
    {
      desc: 'counts and 5xx errors of one second',
      run: (r) => {
        for (let i = 0; i < 10; i++) r.record('api', i < 2 ? 502 : 200, 0.01);
        r.roll(101_000);
      },
      sec: 100,
      want: { requests: 10, errors: 2 },
    },
    {
      desc: 'a second without requests is zero',
      run: (r) => {
        r.record('api', 200, 0.01);
        r.roll(101_000);
        r.roll(102_000);
      },
      sec: 101,
      want: { requests: 0, errors: 0, p50: 0, p99: 0 },
    },
    {
      desc: 'seconds a late timer skipped stay empty, the counted ones land on the second before the roll',
      run: (r) => {
        r.record('api', 200, 0.01);
        r.roll(101_000);
        r.record('api', 200, 0.01);
        r.record('api', 200, 0.01);
        r.roll(105_500);
      },
      sec: 104,
      want: { requests: 2 },
    },
    {
      desc: 'a second roll within the same second keeps counting into the next one',
      run: (r) => {
        r.record('api', 200, 0.01);
        r.roll(101_000);
        r.record('api', 200, 0.01);
        r.roll(101_900);
        r.roll(102_000);
      },
      sec: 101,
      want: { requests: 1 },
    },
  ];
  for (const c of cases)
    t.test(c.desc, async (t) => {
      const { ring } = ringAt(100_000);
      c.run(ring);
      const s = ring.sample('api', c.sec);
      for (const [k, v] of Object.entries(c.want)) t.equal((s as unknown as Record<string, number>)[k], v, k);
    });
});

t.test('bounds: 900 seconds per route, at most RING_MAX_ROUTES routes', async (t) => {
  t.test('a second older than the ring reads as zero once its slot is reused', async (t) => {
    const { ring } = ringAt(0);
    ring.record('api', 200, 0.01);
    ring.roll(1_000_000); // second 999
    t.equal(ring.sample('api', 999).requests, 1);
    ring.record('api', 200, 0.01);
    ring.roll((1000 + RING_SECONDS) * 1000); // second 999 + 900: the same slot
    t.equal(ring.sample('api', 999).requests, 0, 'overwritten');
    t.equal(ring.sample('api', 999 + RING_SECONDS).requests, 1);
  });
  t.test('series has exactly the window asked, capped at the ring', async (t) => {
    const { ring } = ringAt(0);
    ring.roll(4_000_000);
    t.equal(ring.series(5000)['api'], undefined, 'no route before its first request');
    ring.record('api', 200, 0.01);
    ring.roll(4_010_000);
    t.equal(ring.series(5000)['api'].t.length, 11, 'nothing before the first roll');
    ring.record('api', 200, 0.01);
    ring.roll(5_000_000);
    const s = ring.series(5000)['api'];
    t.equal(s.t.length, RING_SECONDS);
    t.equal(s.t[s.t.length - 1], 4999);
    t.equal(s.requests[s.requests.length - 1], 1);
    t.equal(ring.series(60)['api'].t.length, 60);
  });
  t.test('routes beyond the cap are not sampled', async (t) => {
    const { ring } = ringAt(0);
    for (let i = 0; i < RING_MAX_ROUTES + 10; i++) ring.record(`r${i}`, 200, 0.01);
    t.equal(ring.routeNames().length, RING_MAX_ROUTES);
  });
});

t.test('percentiles from the per-second histogram', async (t) => {
  const cases: { desc: string; ms: number[]; p50: number; p99: number }[] = [
    { desc: 'all equal', ms: Array(100).fill(10), p50: 10, p99: 10 },
    { desc: 'a slow tail', ms: [...Array(98).fill(2), 500, 500], p50: 2, p99: 500 },
    { desc: 'uniform 1..1000 ms', ms: Array.from({ length: 1000 }, (_, i) => i + 1), p50: 500, p99: 990 },
    { desc: 'below the first bound (0.05 ms): read inside the first bucket', ms: Array(10).fill(0.01), p50: 0.025, p99: 0.05 },
    { desc: 'beyond the last bound', ms: Array(10).fill(500_000), p50: 105_000, p99: 105_000 },
  ];
  for (const c of cases)
    t.test(c.desc, async (t) => {
      const { ring } = ringAt(0);
      for (const ms of c.ms) ring.record('api', 200, ms / 1000);
      ring.roll(2000);
      const s = ring.sample('api', 1);
      // Buckets grow by √2: a reading is within that factor of the truth.
      for (const [name, want] of [
        ['p50', c.p50],
        ['p99', c.p99],
      ] as const) {
        const got = s[name];
        t.ok(got >= want / Math.SQRT2 - 1e-9 && got <= want * Math.SQRT2 + 1e-9, `${name} ${got} ≈ ${want}`);
      }
    });
  t.test('empty histogram reads 0', async (t) => {
    t.equal(quantileOf(new Uint32Array(43), 0, 0.5), 0);
  });
});

t.test('start rolls on a timer that does not hold the process, stop ends it', async (t) => {
  const ring = new SampleRing();
  ring.start();
  t.teardown(() => ring.stop());
  ring.record('api', 200, 0.01);
  const before = ring.lastSecond;
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (ring.lastSecond > before) {
        clearInterval(check);
        resolve();
      }
    }, 50);
  });
  t.equal(
    ring.series(5)['api'].requests.reduce((a, b) => a + b, 0),
    1,
    'counted into a rolled second',
  );
});

t.test('histograms handed on and merged (a cluster primary reads its workers this way)', async (t) => {
  /** Merge what each worker ring finished into `into`, as core/server/cluster-dashboard.ts does. */
  const mergeInto = (into: SampleRing, rings: SampleRing[], since: number, upTo: number) => {
    const cells = new Map<string, { n: number; e: number; h: Uint32Array }>();
    for (const r of rings)
      for (const s of r.finishedSince(since, upTo).seconds)
        for (const [route, c] of Object.entries(s.routes)) {
          const key = `${s.t} ${route}`;
          const cell = cells.get(key) ?? { n: 0, e: 0, h: new Uint32Array(HIST_BUCKETS) };
          cell.n += c.n;
          cell.e += c.e;
          for (let i = 0; i < c.h.length; i += 2) cell.h[c.h[i]] += c.h[i + 1];
          cells.set(key, cell);
        }
    for (const [key, c] of cells) {
      const [sec, route] = key.split(' ');
      into.put(route, Number(sec), c.n, c.e, c.h);
    }
    into.advance(upTo);
  };
  const cases: { desc: string; a: number[]; b: number[] }[] = [
    { desc: 'a fast worker and a slow one: the slow tail is the merged p99', a: Array(98).fill(2), b: [500, 500] },
    { desc: 'equal workers', a: Array(50).fill(10), b: Array(50).fill(10) },
    { desc: 'one idle worker', a: Array.from({ length: 100 }, (_, i) => i + 1), b: [] },
  ];
  for (const c of cases)
    t.test(c.desc, async (t) => {
      const rings = [ringAt(100_000).ring, ringAt(100_000).ring];
      const single = ringAt(100_000).ring;
      for (const r of rings) r.keepHistograms(5);
      c.a.forEach((ms, i) => rings[0].record('api', i === 0 ? 503 : 200, ms / 1000));
      c.b.forEach((ms) => rings[1].record('api', 200, ms / 1000));
      for (const ms of [...c.a, ...c.b]) single.record('api', 200, ms / 1000);
      for (const r of [...rings, single]) r.roll(101_000);
      const merged = new SampleRing(() => 101_000);
      mergeInto(merged, rings, -1, 100);
      const got = merged.sample('api', 100);
      const want = single.sample('api', 100);
      t.equal(got.requests, c.a.length + c.b.length, 'requests summed');
      t.equal(got.errors, 1, '5xx summed');
      t.equal(got.p50, want.p50, 'p50 as one process that served them all');
      t.equal(got.p99, want.p99, 'p99 as one process that served them all');
      t.equal(merged.lastSecond, 100);
    });

  t.test('finishedSince: the seconds after `since` up to `upTo`, within the seconds kept', async (t) => {
    let now = 100_000;
    const r = new SampleRing(() => now);
    r.keepHistograms(3);
    for (let sec = 100; sec < 106; sec++) {
      r.record('api', 200, 0.01);
      r.roll((sec + 1) * 1000);
    }
    now = 106_500;
    t.same(
      r.finishedSince(-1, 105).seconds.map((s) => s.t),
      [103, 104, 105],
      'only the last 3 kept',
    );
    t.same(
      r.finishedSince(103, 104).seconds.map((s) => s.t),
      [104],
      'not past upTo',
    );
    const { api } = r.finishedSince(104, 105).seconds[0].routes;
    t.match(api, { n: 1, e: 0 }, 'counts of the second');
    t.equal(api.h.length, 2, 'the histogram sparse: one bucket and its count');
    t.equal(api.h[1], 1);
    const plain = ringAt(100_000).ring;
    plain.record('api', 200, 0.01);
    plain.roll(101_000);
    t.same(plain.finishedSince(-1, 100).seconds, [], 'a ring keeping no histograms hands none on');
  });

  t.test('a second put again (a worker that answered late) adds its counts, keeps its percentiles', async (t) => {
    const merged = new SampleRing(() => 0);
    const fast = new Uint32Array(HIST_BUCKETS);
    fast[10] = 10;
    merged.put('api', 100, 10, 0, fast);
    const before = merged.sample('api', 100);
    const slow = new Uint32Array(HIST_BUCKETS);
    slow[40] = 5;
    merged.put('api', 100, 5, 2, slow);
    const after = merged.sample('api', 100);
    t.equal(after.requests, 15);
    t.equal(after.errors, 2);
    t.equal(after.p99, before.p99);
  });
});
