// The Redis backend's own semantic checks, beside the shared contract (redis-contract.test.ts):
// what is particular to Redis (index sweeping, cut connections) and a quick table of the rest.
import t, { type Test } from 'tap';
import Redis from 'ioredis';
import type { RedisStore } from '../../core/store/redis';
import { startRedis, openRedisStore as opened } from '../helpers/redis';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('semantics', async (t) => {
  const srv = await startRedis(t);
  if (!srv) return;
  const checks: { desc: string; run(t: Test, s: RedisStore): Promise<void> }[] = [
    {
      desc: 'kv: versions grow store-wide, cas compares them',
      async run(t, s) {
        const v1 = await s.kv.set('a', { x: 1 });
        const v2 = await s.kv.set('b', 'y');
        t.ok(v2 > v1 && v1 > 0);
        t.same(await s.kv.get('a'), { key: 'a', value: { x: 1 }, version: v1 });
        t.same(await s.kv.cas('a', v2, 2), { ok: false, current: { key: 'a', value: { x: 1 }, version: v1 } });
        const r = await s.kv.cas('a', v1, 2);
        t.ok(r.ok && r.version > v2);
        t.same(await s.kv.cas('new', 0, true), { ok: true, version: (r as { version: number }).version + 1 });
        t.same(await s.kv.cas('nope', 5, true), { ok: false });
        t.equal(await s.kv.delete('a'), true);
        t.equal(await s.kv.delete('a'), false);
        t.equal(await s.kv.get('a'), undefined);
      },
    },
    {
      desc: 'kv: ttl expires; a later write without ttl keeps none',
      async run(t, s) {
        await s.kv.set('t', 1, { ttlMs: 100 });
        t.ok((await s.kv.get('t'))?.expiresAt);
        await s.kv.set('u', 1, { ttlMs: 100 });
        await s.kv.set('u', 2);
        await sleep(200);
        t.equal(await s.kv.get('t'), undefined);
        t.same((await s.kv.list('t')).entries, []);
        t.same((await s.kv.get('u'))?.value, 2);
        t.equal((await s.kv.get('u'))?.expiresAt, undefined);
      },
    },
    {
      desc: 'kv: list pages in byte order under a prefix',
      async run(t, s) {
        for (const k of ['p/b', 'p/a', 'p/é', 'p/c', 'q/a', 'p']) await s.kv.set(k, k);
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await s.kv.list('p/', { cursor, limit: 2 });
          seen.push(...page.entries.map((e) => e.key));
          cursor = page.cursor;
          pages++;
        } while (cursor);
        t.same(seen, ['p/a', 'p/b', 'p/c', 'p/é']);
        t.equal(pages, 2);
      },
    },
    {
      desc: 'kv: watch sees sets and deletes under its prefix, in order',
      async run(t, s) {
        const seen: string[] = [];
        const stop = s.kv.watch('w/', (c) => seen.push(`${c.type}:${c.key}:${JSON.stringify(c.value)}`));
        await s.kv.set('w/1', 'a');
        await s.kv.set('x/1', 'b');
        await s.kv.delete('w/1');
        await sleep(100);
        stop();
        await s.kv.set('w/2', 'c');
        await sleep(50);
        t.same(seen, ['set:w/1:"a"', 'delete:w/1:undefined']);
      },
    },
    {
      desc: 'queue: enqueue, dedupe, lease order, ack with retention',
      async run(t, s) {
        t.same(await s.queue.enqueue('q', 1, { id: 'a', retainMs: 10000 }), { id: 'a', duplicate: false });
        t.same(await s.queue.enqueue('q', 1, { id: 'a' }), { id: 'a', duplicate: true });
        await s.queue.enqueue('q', 2, { id: 'b' });
        await s.queue.enqueue('q', 3, { id: 'c', delayMs: 5000 });
        const got = await s.queue.lease('q', 5, 10000);
        t.same(
          got.map((i) => [i.id, i.payload, i.attempts]),
          [
            ['a', 1, 1],
            ['b', 2, 1],
          ],
        );
        t.match(await s.queue.stats('q'), { ready: 0, delayed: 1, leased: 2, dead: 0, oldestAgeMs: Number });
        t.equal(await s.queue.ack(got[0]!, { ok: 1 }), true);
        t.equal(await s.queue.ack(got[0]!), false, 'twice: lease gone');
        t.same(await s.queue.enqueue('q', 1, { id: 'a' }), { id: 'a', duplicate: true }, 'retained id');
        t.match(await s.queue.get('q', 'a'), { state: 'acked', result: { ok: 1 } });
        t.equal(await s.queue.ack({ ...got[1]!, token: 'other' }), false, 'wrong token');
        t.same(await s.queues(), ['q']);
      },
    },
    {
      desc: 'queue: expired lease is reclaimed with attempts kept and lastError',
      async run(t, s) {
        await s.queue.enqueue('r', 'x', { id: 'i' });
        const [first] = await s.queue.lease('r', 1, 100);
        t.same(await s.queue.lease('r', 1, 100), [], 'not twice while live');
        await sleep(150);
        t.match(await s.queue.get('r', 'i'), { state: 'ready', lastError: 'lease expired' });
        const [again] = await s.queue.lease('r', 1, 10000);
        t.match(again, { id: 'i', attempts: 2, lastError: 'lease expired' });
        t.equal(await s.queue.ack(first!), false, 'old lease cannot ack');
        t.equal(await s.queue.extend(again!, 20000), true);
        t.equal(await s.queue.retry(again!, 100, 'boom'), true);
        t.match(await s.queue.get('r', 'i'), { state: 'delayed', lastError: 'boom' });
        await sleep(150);
        const [third] = await s.queue.lease('r', 1, 10000);
        t.match(third, { attempts: 3, lastError: 'boom' });
        t.equal(await s.queue.dead(third!, 'gave up'), true);
        t.match(await s.queue.deadLetters('r'), { items: [{ id: 'i', error: 'gave up', attempts: 3 }] });
        t.equal(await s.queue.replay('r', 'i'), true);
        t.match(await s.queue.lease('r', 1, 1000), [{ id: 'i', attempts: 1 }]);
      },
    },
    {
      desc: 'queue: only the head of a group is due; a retried head keeps its place',
      async run(t, s) {
        for (const id of ['g1', 'g2', 'g3']) await s.queue.enqueue('g', id, { id, group: 'G' });
        await s.queue.enqueue('g', 'solo', { id: 'solo' });
        let got = await s.queue.lease('g', 10, 10000);
        t.same(
          got.map((i) => i.id),
          ['g1', 'solo'],
        );
        await s.queue.retry(got[0]!, 0, 'again');
        got = await s.queue.lease('g', 10, 10000);
        t.same(
          got.map((i) => i.id),
          ['g1'],
        );
        t.same((await s.queue.stats('g')).ready, 2, 'the waiting ones count as ready');
        await s.queue.ack(got[0]!);
        got = await s.queue.lease('g', 10, 10000);
        t.same(
          got.map((i) => i.id),
          ['g2'],
        );
        await s.queue.remove('g', 'g2');
        t.same(
          (await s.queue.lease('g', 10, 10000)).map((i) => i.id),
          ['g3'],
        );
      },
    },
    {
      desc: 'queue: dead letters page, purge one and all',
      async run(t, s) {
        for (let i = 0; i < 5; i++) await s.queue.enqueue('d', i, { id: `d${i}` });
        for (const it of await s.queue.lease('d', 5, 10000)) await s.queue.dead(it, `e${it.payload}`);
        const p1 = await s.queue.deadLetters('d', { limit: 3 });
        const p2 = await s.queue.deadLetters('d', { limit: 3, cursor: p1.cursor });
        t.same(
          [...p1.items, ...p2.items].map((d) => d.id),
          ['d0', 'd1', 'd2', 'd3', 'd4'],
        );
        t.equal(p2.cursor, undefined);
        t.equal(await s.queue.purge('d', 'd0'), 1);
        t.equal(await s.queue.purge('d'), 4);
        t.same(await s.queue.stats('d'), { ready: 0, delayed: 0, leased: 0, dead: 0, oldestAgeMs: 0 });
      },
    },
    {
      desc: 'locks: exclusive, renew and release compare the token',
      async run(t, s) {
        const a = await s.locks.acquire('L', 200);
        t.ok(a);
        t.equal(await s.locks.acquire('L', 200), undefined);
        t.equal(await a!.renew(400), true);
        await sleep(450);
        const b = await s.locks.acquire('L', 1000);
        t.ok(b, 'taken after expiry');
        t.equal(await a!.renew(), false);
        await a!.release();
        t.equal(await s.locks.acquire('L', 1000), undefined, 'a stale release did not free it');
        await b!.release();
        t.ok(await s.locks.acquire('L', 1000));
      },
    },
    {
      desc: 'kv: keys that expired unlisted do not pile up in the index (each write sweeps some)',
      async run(t, s) {
        for (let i = 0; i < 100; i++) await s.kv.set(`gone/${i}`, i, { ttlMs: 30 });
        await sleep(60);
        for (let i = 0; i < 12; i++) await s.kv.set(`kept/${i}`, i);
        const admin = new Redis(srv.url);
        t.teardown(() => admin.disconnect());
        const prefix = (s as unknown as { options: { prefix: string } }).options.prefix;
        t.equal(await admin.zcard(`${prefix}kvidx`), 12, 'only the live keys are indexed');
        t.equal(await admin.zcard(`${prefix}kvexp`), 0, 'no expiry left to sweep');
      },
    },
    {
      desc: 'names of 1-512 characters, JSON values and ms >= 0 are checked before anything is sent',
      async run(t, s) {
        await t.rejects(s.kv.set('', 1), TypeError);
        await t.rejects(s.kv.get('x'.repeat(513)), TypeError);
        await t.rejects(s.kv.set('k', undefined as never), TypeError);
        await t.rejects(s.queue.enqueue('q', 1, { id: '' }), TypeError);
        await t.rejects(s.queue.enqueue('q', 1, { delayMs: -1 }), TypeError);
        await t.rejects(s.locks.acquire('', 100), TypeError);
        t.same(await s.queue.stats('q'), { ready: 0, delayed: 0, leased: 0, dead: 0, oldestAgeMs: 0 }, 'nothing written');
      },
    },
    {
      desc: 'a connection cut mid-enqueue: what was answered is there, what was in flight is rejected (never a silent loss), none called duplicate',
      async run(t, s) {
        const admin = new Redis(srv.url);
        t.teardown(() => admin.disconnect());
        const ids = Array.from({ length: 3000 }, (_, i) => `c${i}`);
        const all = Promise.all(ids.map((id) => s.queue.enqueue('cut', id, { id }).catch((e: Error) => e)));
        await sleep(5);
        await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        const results = await all;
        const errors = results.filter((r) => r instanceof Error);
        const dups = results.filter((r) => !(r instanceof Error) && r.duplicate);
        t.same(dups, [], 'no first enqueue of an id answered duplicate');
        const answered = results.filter((r) => !(r instanceof Error)).map((r) => (r as { id: string }).id);
        // Until it has reconnected, the store fails operations at once rather than queueing them.
        while (s.health() !== true) await sleep(20);
        const missing: string[] = [];
        for (const id of answered) if ((await s.queue.get('cut', id)) === undefined) missing.push(id);
        t.same(missing, [], `all ${answered.length} answered enqueues are present`);
        // A rejected one may or may not have reached Redis, like any write whose answer was lost.
        const stats = await s.queue.stats('cut');
        t.ok(stats.ready >= answered.length && stats.ready <= ids.length, `${stats.ready} present`);
        t.comment(`${errors.length} rejected: ${[...new Set(errors.map((e) => (e as Error).message))].join('; ')}`);
      },
    },
  ];
  for (const c of checks) t.test(c.desc, async (t) => c.run(t, await opened(t, srv.url)));
});
