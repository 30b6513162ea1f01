import t, { type Test } from 'tap';
import { Waker } from '../../core/plugin-api';

// The poll loops' sleep (webhook-ingest's delivery, the load-balancer's push dispatch): what ends
// it early, and what must not (a nudge nobody was waiting for, a signal or a sleep gone by).

const LONG = 10_000;
const SHORT = 50;

/** Run `fn` after `ms`, cleared when the test ends. */
function later(t: Test, ms: number, fn: () => void): void {
  const timer = setTimeout(fn, ms);
  t.teardown(() => clearTimeout(timer));
}

t.test('how long a sleep lasts', async (t) => {
  const cases: { desc: string; run: (t: Test, w: Waker, ctl: AbortController) => Promise<void>; early: boolean }[] = [
    { desc: 'untouched, it lasts its time', run: (_t, w, ctl) => w.sleep(SHORT, ctl.signal), early: false },
    {
      desc: 'a nudge ends it at once',
      run: (t, w, ctl) => {
        later(t, 20, () => w.nudge());
        return w.sleep(LONG, ctl.signal);
      },
      early: true,
    },
    {
      desc: 'an abort ends it at once',
      run: (t, w, ctl) => {
        later(t, 20, () => ctl.abort());
        return w.sleep(LONG, ctl.signal);
      },
      early: true,
    },
    {
      desc: 'a nudge before it is dropped, not saved for it',
      run: (_t, w, ctl) => {
        w.nudge();
        return w.sleep(SHORT, ctl.signal);
      },
      early: false,
    },
    {
      desc: 'a nudge after a nudged sleep ended reaches nobody',
      run: async (_t, w, ctl) => {
        const first = w.sleep(LONG, ctl.signal);
        w.nudge();
        await first;
        w.nudge();
        await w.sleep(SHORT, ctl.signal);
      },
      early: false,
    },
    {
      desc: "an earlier sleep's signal no longer ends sleeps",
      run: async (_t, w, ctl) => {
        await w.sleep(10, ctl.signal);
        const slept = w.sleep(SHORT, new AbortController().signal);
        ctl.abort();
        await slept;
      },
      early: false,
    },
    {
      desc: 'an older sleep ending leaves the newer one nudgeable',
      run: async (t, w, ctl) => {
        const older = w.sleep(10, ctl.signal);
        const newer = w.sleep(LONG, ctl.signal);
        await older;
        later(t, 20, () => w.nudge());
        await newer;
      },
      early: true,
    },
  ];
  for (const c of cases)
    t.test(c.desc, async (t) => {
      const started = performance.now();
      await c.run(t, new Waker(), new AbortController());
      const took = performance.now() - started;
      if (c.early) t.ok(took < LONG / 2, `ended early (${Math.round(took)} ms)`);
      else t.ok(took >= SHORT - 5 && took < LONG / 2, `lasted its ${SHORT} ms (${Math.round(took)} ms)`);
    });
});
