import t from 'tap';
import { advise, type Advice, type CapacityInputs } from '../../../plugins/load-balancer/capacity';

const O = { threshold: 3, spawnRatio: 0.2, minIdle: 1, max: 50, intervalMs: 1000, stable: 1 };
const i = (depth: number, busy: number, idle: number, booting = 0): CapacityInputs => ({ depth, busy, idle, booting });

const cases: { name: string; inputs: CapacityInputs; options?: Partial<typeof O>; delta: number }[] = [
  { name: 'depth at the threshold: nothing', inputs: i(3, 2, 0), delta: 0 },
  { name: 'depth above it: ceil(depth × ratio)', inputs: i(4, 2, 0), delta: 1 },
  { name: '20 queued: 4 more', inputs: i(20, 5, 0), delta: 4 },
  { name: 'minus those booting', inputs: i(20, 5, 0, 3), delta: 1 },
  { name: 'more booting than needed: never negative while busy', inputs: i(20, 5, 0, 6), delta: 0 },
  { name: 'capped by max', inputs: i(500, 48, 0), delta: 2 },
  { name: 'at max: nothing', inputs: i(500, 50, 0), delta: 0 },
  { name: 'over max (workers started elsewhere): remove the excess', inputs: i(0, 52, 0), delta: -2 },
  { name: 'empty queue: remove idle beyond minIdle', inputs: i(0, 1, 4), delta: -3 },
  { name: 'empty queue, one idle: keep it', inputs: i(0, 3, 1), delta: 0 },
  { name: 'empty queue, minIdle 0: remove every idle', inputs: i(0, 0, 2), options: { minIdle: 0 }, delta: -2 },
  { name: 'a short queue: hold (not empty, not above the threshold)', inputs: i(2, 1, 3), delta: 0 },
  { name: 'spawnRatio 1', inputs: i(10, 0, 0), options: { spawnRatio: 1 }, delta: 10 },
];
t.test('the advice from queue states (stable: 1)', async (t) => {
  for (const c of cases)
    await t.test(c.name, async (t) => {
      t.equal(advise(c.inputs, { ...O, ...c.options }).delta, c.delta);
    });
});

const sequences: { name: string; steps: CapacityInputs[]; deltas: number[] }[] = [
  { name: 'adding waits for two evaluations in a row', steps: [i(20, 5, 0), i(20, 5, 0), i(25, 5, 0)], deltas: [0, 4, 5] },
  { name: 'a blip does not scale', steps: [i(20, 5, 0), i(0, 5, 0), i(20, 5, 0)], deltas: [0, 0, 0] },
  { name: 'add then remove: each needs its own streak', steps: [i(20, 5, 0), i(20, 5, 0), i(0, 0, 5), i(0, 0, 5)], deltas: [0, 4, 0, -4] },
  { name: 'a hold resets the streak', steps: [i(0, 0, 5), i(2, 0, 5), i(0, 0, 5), i(0, 0, 5)], deltas: [0, 0, 0, -4] },
];
t.test('hysteresis (stable: 2)', async (t) => {
  for (const s of sequences)
    await t.test(s.name, async (t) => {
      let prev: Advice | undefined;
      const got = s.steps.map((step) => (prev = advise(step, { ...O, stable: 2 }, prev)).delta);
      t.same(got, s.deltas);
    });
});
