import t from 'tap';
import { RESTART_MAX_MS, WorkerSlot } from '../../core/server/worker-slot';

/** The backoff before a crashed worker's replacement, and when a slot is left stopped. */
const cases: { name: string; limit: { max: number; windowMs: number }; crashesAt: number[]; delays: (number | undefined)[] }[] = [
  {
    name: 'doubling from 100 ms, stopped past max',
    limit: { max: 3, windowMs: 60000 },
    crashesAt: [0, 1, 2, 3],
    delays: [100, 200, 400, undefined],
  },
  {
    name: 'capped at 10 s',
    limit: { max: 10, windowMs: 600000 },
    crashesAt: [0, 1, 2, 3, 4, 5, 6, 7, 8],
    delays: [100, 200, 400, 800, 1600, 3200, 6400, RESTART_MAX_MS, RESTART_MAX_MS],
  },
  {
    name: 'crashes older than the window are forgotten',
    limit: { max: 2, windowMs: 1000 },
    crashesAt: [0, 500, 1600, 1700, 1800],
    delays: [100, 200, 100, 200, undefined],
  },
  { name: 'max 0: never restarted', limit: { max: 0, windowMs: 60000 }, crashesAt: [0], delays: [undefined] },
];

for (const c of cases)
  t.test(c.name, async (t) => {
    const slot = new WorkerSlot(1, c.limit);
    t.same(
      c.crashesAt.map((at) => slot.crashed(at)),
      c.delays,
    );
  });
