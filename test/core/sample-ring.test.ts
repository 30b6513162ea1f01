import t from 'tap';
import { RING_MAX_ROUTES, RING_SECONDS, SampleRing, quantileOf } from '../../core/observe/sample-ring';

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
