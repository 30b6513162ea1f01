// The Redis store while its server is gone, stalled and back (core/store/redis/connect.ts):
// every operation fails within a bound instead of waiting in ioredis's offline queue, and the same
// store serves again once a new redis-server runs on the port, watches included.
import t, { type Test } from 'tap';
import { RedisStore } from '../../core/store/redis';
import { startRedis, type RedisServer } from '../helpers/redis';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long `fn` took to reject (it must). */
async function rejectsWithin(t: Test, fn: () => Promise<unknown>, what: string): Promise<number> {
  const start = Date.now();
  await t.rejects(fn(), undefined, what);
  return Date.now() - start;
}

/** Poll until the store says it is up again. */
async function upAgain(s: RedisStore, ms = 10000): Promise<number> {
  const start = Date.now();
  while (s.health() !== true) {
    if (Date.now() - start > ms) throw new Error(`still down after ${ms} ms: ${String(s.health())}`);
    await sleep(20);
  }
  return Date.now() - start;
}

const cases: { desc: string; commandTimeoutMs?: number; run(t: Test, s: RedisStore, srv: RedisServer): Promise<void> }[] = [
  {
    desc: 'gone: operations made while Redis is down reject at once, and health says why',
    async run(t, s, srv) {
      await srv.kill();
      await sleep(100); // the close is seen
      t.match(s.health(), /unreachable/, `health: ${String(s.health())}`);
      const took = [
        await rejectsWithin(t, () => s.kv.get('k'), 'kv.get'),
        await rejectsWithin(t, () => s.kv.set('k', 1), 'kv.set'),
        await rejectsWithin(t, () => s.queue.enqueue('q', 1), 'enqueue'),
        await rejectsWithin(t, () => s.locks.acquire('l', 1000), 'lock'),
      ];
      t.ok(Math.max(...took) < 300, `each within 300 ms (${took.join(', ')} ms)`);
    },
  },
  {
    desc: 'gone mid-flight: enqueues sent when Redis dies reject promptly, none is left hanging',
    async run(t, s, srv) {
      const start = Date.now();
      const all = Promise.allSettled(Array.from({ length: 2000 }, (_, i) => s.queue.enqueue('q', i, { id: `m${i}` })));
      await sleep(5);
      await srv.kill();
      const results = await all;
      const took = Date.now() - start;
      const rejected = results.filter((r) => r.status === 'rejected').length;
      t.ok(took < 1500, `all 2000 settled within ${took} ms (${rejected} rejected)`);
    },
  },
  {
    desc: 'stalled: an operation Redis does not answer rejects after commandTimeoutMs',
    commandTimeoutMs: 300,
    async run(t, s, srv) {
      // SIGSTOP: the socket stays open and nothing answers (a hung server or a partition).
      srv.process.kill('SIGSTOP');
      t.teardown(() => srv.process.kill('SIGCONT'));
      const start = Date.now();
      await t.rejects(s.kv.get('k'), /timed out/, 'kv.get times out');
      const took = Date.now() - start;
      t.ok(took >= 250 && took < 1500, `after ${took} ms`);
      srv.process.kill('SIGCONT');
      await sleep(50);
      t.equal(await s.kv.get('k'), undefined, 'answers again once Redis runs');
    },
  },
  {
    desc: 'back: a new redis-server on the same AOF serves the same store, watch included, without reopening',
    async run(t, s, srv) {
      await s.kv.set('kept', 'before');
      await s.queue.enqueue('q', 'before', { id: 'b' });
      const seen: string[] = [];
      const errors: string[] = [];
      let resumed = 0;
      s.kv.watch(
        'w/',
        (c) => seen.push(c.key),
        (e) => errors.push(e.message),
        () => resumed++,
      );
      // watch() resolves before its SUBSCRIBE is confirmed: write until the watcher is live.
      for (const until = Date.now() + 5000; !seen.includes('w/1') && Date.now() < until;) {
        await s.kv.set('w/1', 1);
        await sleep(50);
      }
      t.ok(seen.includes('w/1'), 'the watch is live before the kill');
      await srv.kill();
      await sleep(300);
      await srv.restart();
      const took = await upAgain(s);
      t.comment(`up again ${took} ms after redis-server answered`);
      t.ok(took < 2000, 'within the reconnect backoff cap (1 s) and slack');
      t.same((await s.kv.get('kept'))?.value, 'before', 'kv survived (AOF)');
      t.same((await s.queue.get('q', 'b'))?.state, 'ready', 'the queued item survived');
      t.ok(errors.length > 0, `the watcher was told it may miss changes (${errors[0]})`);
      // The subscriber reconnects on its own schedule: a change written before it is back is
      // missed (the contract's "re-list after onError"); one written after is seen.
      const end = Date.now() + 5000;
      let n = 2;
      while (!seen.includes(`w/${n - 1}`) || n === 2) {
        if (Date.now() > end) break;
        await s.kv.set(`w/${n++}`, 1);
        await sleep(50);
      }
      t.ok(
        seen.some((k) => k !== 'w/1'),
        `the watch sees changes again (${JSON.stringify(seen)})`,
      );
      t.equal(resumed, 1, 'onResume said so, once');
    },
  },
];

for (const c of cases)
  t.test(c.desc, async (t) => {
    const srv = await startRedis(t);
    if (!srv) return;
    const s = new RedisStore({ url: srv.url, durability: 'strict', prefix: 're:', commandTimeoutMs: c.commandTimeoutMs });
    await s.open();
    t.teardown(() => s.close());
    t.equal(s.health(), true, 'up after open');
    await c.run(t, s, srv);
  });
