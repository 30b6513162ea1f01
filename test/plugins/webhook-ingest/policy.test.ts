import t from 'tap';
import { Circuit } from '../../../plugins/webhook-ingest/circuit';
import { decide, type RetryPolicy } from '../../../plugins/webhook-ingest/delivery';
import { parseDuration, retryAfterMs, withJitter } from '../../../plugins/webhook-ingest/durations';

const policy: RetryPolicy = { scheduleMs: [1000, 5000, 30000], jitter: 0, maxAgeMs: 60000, retryAfterMaxMs: 20000 };
const T0 = 1_700_000_000_000;

const decisions: { desc: string; result: Parameters<typeof decide>[0]; attempts: number; age?: number; want: object }[] = [
  { desc: '200 → ack', result: { status: 200, ms: 1 }, attempts: 1, want: { kind: 'ack' } },
  { desc: '204 → ack', result: { status: 204, ms: 1 }, attempts: 3, want: { kind: 'ack' } },
  { desc: '410 → dead at once', result: { status: 410, ms: 1 }, attempts: 1, want: { kind: 'dead', error: /410 \(Gone\)/ } },
  {
    desc: '500 on the first attempt → first step',
    result: { status: 500, ms: 1 },
    attempts: 1,
    want: { kind: 'retry', delayMs: 1000, error: /answered 500/ },
  },
  { desc: '500 on the second attempt → second step', result: { status: 500, ms: 1 }, attempts: 2, want: { kind: 'retry', delayMs: 5000 } },
  {
    desc: 'a connection error → schedule',
    result: { error: 'ECONNREFUSED', ms: 1 },
    attempts: 1,
    want: { kind: 'retry', delayMs: 1000, error: 'ECONNREFUSED' },
  },
  {
    desc: 'past the schedule end → dead with the last error',
    result: { status: 502, ms: 1 },
    attempts: 4,
    want: { kind: 'dead', error: /answered 502; the retry schedule is used up after 4/ },
  },
  {
    desc: '429 with Retry-After: 7 → 7 s',
    result: { status: 429, retryAfter: '7', ms: 1 },
    attempts: 1,
    want: { kind: 'retry', delayMs: 7000 },
  },
  {
    desc: '503 with Retry-After: 3600 → capped',
    result: { status: 503, retryAfter: '3600', ms: 1 },
    attempts: 1,
    want: { kind: 'retry', delayMs: 20000 },
  },
  {
    desc: '503 with an HTTP date',
    result: { status: 503, retryAfter: new Date(T0 + 9000).toUTCString(), ms: 1 },
    attempts: 1,
    want: { kind: 'retry', delayMs: 9000 },
  },
  { desc: '429 without Retry-After → schedule', result: { status: 429, ms: 1 }, attempts: 2, want: { kind: 'retry', delayMs: 5000 } },
  {
    desc: '400 → schedule (a backend bug may be fixed)',
    result: { status: 400, ms: 1 },
    attempts: 1,
    want: { kind: 'retry', delayMs: 1000 },
  },
  {
    desc: 'next try past maxAgeMs → dead',
    result: { status: 500, ms: 1 },
    attempts: 3,
    age: 40000,
    want: { kind: 'dead', error: /past maxAgeMs/ },
  },
  {
    desc: 'Retry-After past maxAgeMs → dead',
    result: { status: 503, retryAfter: '15', ms: 1 },
    attempts: 1,
    age: 50000,
    want: { kind: 'dead' },
  },
];
for (const c of decisions) {
  t.test(c.desc, async (t) => {
    t.match(decide(c.result, c.attempts, T0 - (c.age ?? 0), T0, policy), c.want);
  });
}

t.test('jitter varies a wait within ±jitter, and spreads', async (t) => {
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const ms = withJitter(10000, 0.2);
    t.ok(ms >= 8000 && ms <= 12000, `${ms} within ±20%`);
    seen.add(ms);
  }
  t.ok(seen.size > 50, 'not all the same');
  t.equal(
    withJitter(10000, 0.2, () => 0),
    8000,
  );
  t.equal(
    withJitter(10000, 0.2, () => 1),
    12000,
  );
});

const durations: [string, number][] = [
  ['250ms', 250],
  ['1s', 1000],
  ['2m', 120000],
  ['3h', 10800000],
  ['1.5s', NaN],
  ['s', NaN],
  ['597h', NaN], // past what timers hold
];
for (const [text, ms] of durations) t.test(`duration ${text}`, async (t) => t.same(parseDuration(text), ms));

t.test('Retry-After forms', async (t) => {
  t.equal(retryAfterMs('120', T0), 120000);
  t.equal(retryAfterMs(undefined, T0), undefined);
  t.equal(retryAfterMs('soon', T0), undefined);
  t.equal(retryAfterMs(new Date(T0 - 5000).toUTCString(), T0), 0, 'a date in the past: now');
});

t.test('circuit: opens after N failures in a row, lets one probe through, closes on its success', async (t) => {
  const changes: string[] = [];
  const c = new Circuit(3, 1000, (s) => changes.push(s));
  t.equal(c.allowance(T0, 4, 0), 4, 'closed: every free slot');
  c.failed(T0);
  c.failed(T0);
  c.succeeded();
  c.failed(T0);
  c.failed(T0);
  t.equal(c.state(T0), 'closed', 'a success in between resets the count');
  c.failed(T0);
  t.equal(c.state(T0), 'open');
  t.equal(c.allowance(T0 + 500, 4, 0), 0, 'open: nothing');
  t.equal(c.waitMs(T0 + 500), 500);
  t.equal(c.allowance(T0 + 1000, 4, 2), 0, 'half-open with attempts still out: wait for them');
  t.equal(c.allowance(T0 + 1000, 4, 0), 1, 'half-open: one probe');
  c.started(T0 + 1000);
  t.equal(c.allowance(T0 + 1000, 4, 0), 0, 'only one probe');
  c.failed(T0 + 1100);
  t.equal(c.state(T0 + 1500), 'open', 'a failed probe opens it again');
  t.equal(c.allowance(T0 + 2100, 4, 0), 1);
  c.started(T0 + 2100);
  c.succeeded();
  t.equal(c.allowance(T0 + 2100, 4, 0), 4, 'a good probe closes it');
  t.same(changes, ['open', 'open', 'closed']);
});
