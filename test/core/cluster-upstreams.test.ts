import t from 'tap';
import { mergeUpstreams } from '../../core/server/cluster-upstreams';

/** One worker's `GET /upstreams` for upstream `api` with one target, its fields overridden. */
function seen(target: Record<string, unknown> = {}, upstream: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    api: {
      balance: 'round-robin',
      queued: 1,
      panic: false,
      openSockets: 2,
      ...upstream,
      targets: [
        {
          url: 'http://127.0.0.1:7001',
          weight: 1,
          healthy: true,
          ejected: false,
          ejectedUntil: null,
          inflight: 1,
          ejections: 0,
          retries: 1,
          picks: 10,
          latencyEwmaMs: 2,
          openSockets: 2,
          ...target,
        },
      ],
    },
  };
}

t.test('upstreams merged across workers', async (t) => {
  const cases: {
    desc: string;
    answers: [number, Record<string, unknown>][];
    want: Record<string, unknown>;
    upstream?: Record<string, unknown>;
  }[] = [
    {
      desc: 'healthy in both: healthy; counts summed; latency the worst',
      answers: [
        [1, seen()],
        [2, seen({ latencyEwmaMs: 7 })],
      ],
      want: {
        healthy: true,
        ejected: false,
        inflight: 2,
        retries: 2,
        picks: 20,
        openSockets: 4,
        latencyEwmaMs: 7,
        unhealthyIn: [],
        ejectedIn: [],
      },
      upstream: { queued: 2, openSockets: 4, panic: false, balance: 'round-robin' },
    },
    {
      desc: 'down in one worker: shown down, naming it',
      answers: [
        [1, seen()],
        [2, seen({ healthy: false })],
      ],
      want: { healthy: false, unhealthyIn: [2] },
    },
    {
      desc: 'down in both',
      answers: [
        [3, seen({ healthy: false })],
        [4, seen({ healthy: false })],
      ],
      want: { healthy: false, unhealthyIn: [3, 4] },
    },
    {
      desc: 'ejected in one: ejected, until the latest',
      answers: [
        [1, seen({ ejected: true, ejectedUntil: '2026-01-01T00:00:01.000Z', ejections: 1 })],
        [2, seen({ ejected: true, ejectedUntil: '2026-01-01T00:00:05.000Z', ejections: 2 })],
      ],
      want: { ejected: true, ejectedIn: [1, 2], ejectedUntil: '2026-01-01T00:00:05.000Z', ejections: 3 },
    },
    {
      desc: 'panic in one worker: panic',
      answers: [
        [1, seen({}, { panic: true })],
        [2, seen()],
      ],
      want: {},
      upstream: { panic: true },
    },
    {
      desc: 'one worker answered: its view',
      answers: [[2, seen({ healthy: false })]],
      want: { healthy: false, unhealthyIn: [2], picks: 10 },
    },
  ];
  for (const c of cases)
    t.test(c.desc, async (t) => {
      const got = mergeUpstreams(c.answers) as Record<string, { targets: Record<string, unknown>[] }>;
      t.same(Object.keys(got), ['api']);
      t.equal(got.api.targets.length, 1, 'one target, by url');
      t.match(got.api.targets[0], { url: 'http://127.0.0.1:7001', weight: 1, ...c.want });
      // t.match takes [] for any array: the worker lists exactly.
      for (const [k, v] of Object.entries(c.want)) if (Array.isArray(v)) t.same(got.api.targets[0][k], v, k);
      if (c.upstream) t.match(got.api, c.upstream);
    });
  t.test('no worker answered: no upstreams', async (t) => {
    t.same(mergeUpstreams([]), {});
  });
});
