import { storeChild, type ContractCase } from './contract-util';

const RACE_ITEMS = 400;
const RACERS = 4;

/** Dead letters, and leases raced by several processes. */
export const leaseRace: ContractCase[] = [
  {
    desc: 'queue: dead letters: listed oldest death first (paged), never leased, counted; replay makes one ready with attempts 0; purge one, then all',
    async run(t, store) {
      for (let i = 0; i < 5; i++) await store.queue.enqueue('q', { n: i }, { id: `d${i}`, group: i === 0 ? 'g' : undefined });
      await store.queue.enqueue('q', 'behind', { id: 'g2', group: 'g' });
      for (let i = 0; i < 5; i++) {
        const [item] = await store.queue.lease('q', 1, 5000);
        t.equal(await store.queue.dead(item, `error ${item.id}`), true);
        await new Promise((r) => setTimeout(r, 5));
      }
      t.equal((await store.queue.stats('q')).dead, 5);
      const p1 = await store.queue.deadLetters('q', { limit: 3 });
      const p2 = await store.queue.deadLetters('q', { limit: 3, cursor: p1.cursor });
      t.same(
        [...p1.items, ...p2.items].map((d) => d.id),
        ['d0', 'd1', 'd2', 'd3', 'd4'],
        'oldest death first, over two pages',
      );
      t.equal(p2.cursor, undefined, 'no cursor on the last page');
      const d0 = p1.items[0];
      t.same([d0.payload, d0.attempts, d0.error, d0.group], [{ n: 0 }, 1, 'error d0', 'g']);
      t.ok(d0.deadAt >= d0.enqueuedAt, 'deadAt');
      const [behind] = await store.queue.lease('q', 5, 5000);
      t.equal(behind?.id, 'g2', 'a dead head lets its group go on; dead letters are not leased');
      await store.queue.ack(behind);
      t.equal(await store.queue.replay('q', 'd1'), true, 'replay');
      t.equal(await store.queue.replay('q', 'd1'), false, 'not a dead letter any more');
      t.equal(await store.queue.replay('q', 'nope'), false, 'unknown id');
      const [again] = await store.queue.lease('q', 5, 5000);
      t.same([again?.id, again?.attempts, again?.payload], ['d1', 1, { n: 1 }], 'leased again, attempts counted from 0');
      t.equal(await store.queue.purge('q', 'd2'), 1, 'purge one');
      t.equal(await store.queue.purge('q', 'd2'), 0, 'purge it again');
      t.equal(await store.queue.purge('q'), 3, 'purge the rest');
      t.same((await store.queue.deadLetters('q')).items, []);
      t.equal((await store.queue.stats('q')).dead, 0);
    },
  },
  {
    desc: `queue: ${RACERS} processes race for ${RACE_ITEMS} items: no item leased twice, each acked exactly once`,
    async run(t, store, spec) {
      for (let i = 0; i < RACE_ITEMS; i++) await store.queue.enqueue('race', { i }, { id: `r${i}` });
      const racers = Array.from({ length: RACERS }, () => storeChild(t, spec, 'lease-worker', 'race', '30000', '3'));
      await Promise.all(racers.map((r) => r.waitFor((l) => l === 'ready')));
      for (const r of racers) r.send('go');
      const ends = await Promise.all(racers.map((r) => r.exited));
      t.same(
        ends.map((e) => e.code),
        Array(RACERS).fill(0),
        'every racer finished',
      );
      const leases = new Map<string, number>();
      const acks = new Map<string, number>();
      const perRacer = racers.map((r) => {
        let n = 0;
        for (const line of r.lines) {
          const [what, id] = line.split(' ');
          if (what === 'leased') leases.set(id, (leases.get(id) ?? 0) + 1);
          if (what === 'acked') {
            acks.set(id, (acks.get(id) ?? 0) + 1);
            n++;
          }
          if (what === 'lost') t.fail(`a lease of ${id} was lost`);
        }
        return n;
      });
      t.equal(leases.size, RACE_ITEMS, 'every item leased');
      t.same(
        [...leases].filter(([, n]) => n !== 1),
        [],
        'no item leased twice',
      );
      t.same(
        [...acks].filter(([, n]) => n !== 1),
        [],
        'no item acked twice',
      );
      t.equal(acks.size, RACE_ITEMS, 'every item acked');
      t.ok(perRacer.filter((n) => n > 0).length >= 2, `the work was shared: ${perRacer.join(', ')}`);
      t.same(await store.queue.stats('race'), { ready: 0, delayed: 0, leased: 0, dead: 0, oldestAgeMs: 0 });
    },
  },
];
