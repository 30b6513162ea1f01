import { SLACK_MS, sleep, type ContractCase } from './contract-util';
import { leaseRace } from './contract-race';

/** queue cases of the contract suite (dead letters and the multi-process race are in their own files). */
export const queueCases: ContractCase[] = [
  {
    desc: 'queue: enqueue then lease: payload, attempts 1, a token, leaseUntil ≈ now + leaseMs; nothing else due',
    async run(t, store) {
      const r = await store.queue.enqueue('q', { job: 1 });
      t.same([typeof r.id, r.id.length > 0, r.duplicate], ['string', true, false], 'a random id');
      const before = Date.now();
      const [item, ...rest] = await store.queue.lease('q', 10, 5000);
      t.same(rest, [], 'one item');
      t.same(
        [item.queue, item.id, item.payload, item.attempts, item.group, item.lastError],
        ['q', r.id, { job: 1 }, 1, undefined, undefined],
      );
      t.ok(item.token.length > 0, 'a token');
      t.ok(Math.abs(item.leaseUntil - (before + 5000)) < SLACK_MS + 100, `leaseUntil ${item.leaseUntil - before} ms ahead`);
      t.ok(Math.abs(item.enqueuedAt - before) < SLACK_MS + 100, 'enqueuedAt is about now');
      t.same(await store.queue.lease('q', 10, 5000), [], 'leased items are not handed out again');
      t.same(await store.queue.lease('other', 10, 5000), [], 'queues are separate');
      t.equal(await store.queue.ack(item, { done: true }), true, 'ack');
      t.equal(await store.queue.ack(item), false, 'a second ack finds no lease');
    },
  },
  {
    desc: 'queue: lease hands out the oldest due first, at most n',
    async run(t, store) {
      for (let i = 0; i < 5; i++) await store.queue.enqueue('q', i, { id: `i${i}` });
      const first = await store.queue.lease('q', 2, 5000);
      t.same(
        first.map((x) => x.id),
        ['i0', 'i1'],
      );
      const rest = await store.queue.lease('q', 10, 5000);
      t.same(
        rest.map((x) => x.id),
        ['i2', 'i3', 'i4'],
      );
      t.same(await store.queue.lease('q', 0, 5000), [], 'n = 0 leases nothing');
    },
  },
  {
    desc: 'queue: dedupe: an id that is ready, leased or dead is not enqueued again',
    async run(t, store) {
      t.same(await store.queue.enqueue('q', 'a', { id: 'x' }), { id: 'x', duplicate: false });
      t.same(await store.queue.enqueue('q', 'b', { id: 'x' }), { id: 'x', duplicate: true }, 'ready');
      t.same(await store.queue.enqueue('other', 'c', { id: 'x' }), { id: 'x', duplicate: false }, 'ids are per queue');
      const [item] = await store.queue.lease('q', 1, 5000);
      t.equal(item.payload, 'a', 'the first payload kept');
      t.equal((await store.queue.enqueue('q', 'b', { id: 'x' })).duplicate, true, 'leased');
      await store.queue.dead(item, 'boom');
      t.equal((await store.queue.enqueue('q', 'b', { id: 'x' })).duplicate, true, 'dead');
      t.equal(await store.queue.purge('q', 'x'), 1);
      t.equal((await store.queue.enqueue('q', 'd', { id: 'x' })).duplicate, false, 'purged: enqueued again');
    },
  },
  {
    desc: 'queue: dedupe: acked within retainMs is a duplicate (get shows the result), after it a new item; retainMs 0 forgets at once',
    async run(t, store) {
      await store.queue.enqueue('q', 1, { id: 'kept', retainMs: 400 });
      await store.queue.enqueue('q', 2, { id: 'gone' });
      for (const item of await store.queue.lease('q', 2, 5000)) t.equal(await store.queue.ack(item, { r: item.id }), true);
      t.equal((await store.queue.enqueue('q', 9, { id: 'kept' })).duplicate, true, 'acked within retainMs');
      const kept = await store.queue.get('q', 'kept');
      t.same([kept?.state, kept?.result, typeof kept?.endedAt], ['acked', { r: 'kept' }, 'number']);
      t.equal(await store.queue.get('q', 'gone'), undefined, 'retainMs 0: forgotten');
      t.equal((await store.queue.enqueue('q', 9, { id: 'gone' })).duplicate, false, 'retainMs 0: enqueued again');
      await sleep(400 + SLACK_MS);
      t.equal(await store.queue.get('q', 'kept'), undefined, 'past retainMs: get finds nothing');
      t.equal((await store.queue.enqueue('q', 10, { id: 'kept' })).duplicate, false, 'past retainMs: enqueued again');
      const again = await store.queue.get('q', 'kept');
      t.same([again?.state, again?.payload, again?.attempts], ['ready', 10, 0], 'a new item');
    },
  },
  {
    desc: 'queue: delayMs: delayed, not leased before it is due, then leased',
    async run(t, store) {
      await store.queue.enqueue('q', 'later', { id: 'd', delayMs: 400 });
      await store.queue.enqueue('q', 'now', { id: 'n' });
      t.same(
        (await store.queue.lease('q', 5, 5000)).map((x) => x.id),
        ['n'],
        'only the due one',
      );
      t.equal((await store.queue.stats('q')).delayed, 1);
      t.equal((await store.queue.get('q', 'd'))?.state, 'delayed');
      await sleep(400 + SLACK_MS);
      t.same(
        (await store.queue.lease('q', 5, 5000)).map((x) => x.id),
        ['d'],
        'due after delayMs',
      );
    },
  },
  {
    desc: 'queue: groups: one item of a group at a time, in enqueue order; a retried head keeps its place; other work flows',
    async run(t, store) {
      for (const [id, group] of [
        ['a1', 'A'],
        ['b1', 'B'],
        ['a2', 'A'],
        ['u1', undefined],
        ['a3', 'A'],
      ] as const)
        await store.queue.enqueue('q', id, { id, group });
      const first = await store.queue.lease('q', 10, 5000);
      t.same(
        first.map((x) => x.id),
        ['a1', 'b1', 'u1'],
        'heads of A and B, and the ungrouped item',
      );
      t.equal(first[0].group, 'A');
      t.equal((await store.queue.get('q', 'a2'))?.state, 'ready', 'waiting behind its head counts as ready');
      t.same(await store.queue.lease('q', 10, 5000), [], 'nothing while the heads are leased');
      await store.queue.retry(first[0], 0, 'try again');
      const retried = await store.queue.lease('q', 10, 5000);
      t.same(
        retried.map((x) => [x.id, x.attempts, x.lastError]),
        [['a1', 2, 'try again']],
        'the retried head comes back before a2',
      );
      await store.queue.ack(retried[0]);
      const second = await store.queue.lease('q', 10, 5000);
      t.same(
        second.map((x) => x.id),
        ['a2'],
        'a2 once a1 is acked',
      );
      await store.queue.dead(second[0], 'no');
      t.same(
        (await store.queue.lease('q', 10, 5000)).map((x) => x.id),
        ['a3'],
        'a3 once a2 is dead',
      );
      await store.queue.ack(first[1]);
      t.same(await store.queue.lease('q', 10, 5000), [], 'B is empty');
    },
  },
  {
    desc: 'queue: an expired lease is reclaimed (attempts kept, lastError "lease expired"); the stale token cannot ack, extend, retry or dead',
    async run(t, store) {
      await store.queue.enqueue('q', 'p', { id: 'x' });
      const [old] = await store.queue.lease('q', 1, 200);
      t.same(await store.queue.lease('q', 1, 200), [], 'not before expiry');
      await sleep(200 + SLACK_MS);
      t.equal((await store.queue.stats('q')).ready, 1, 'ready again after expiry');
      const [fresh] = await store.queue.lease('q', 1, 5000);
      t.same([fresh.id, fresh.attempts, fresh.lastError], ['x', 2, 'lease expired']);
      t.not(fresh.token, old.token, 'a new token');
      t.equal(await store.queue.ack(old), false, 'stale ack');
      t.equal(await store.queue.extend(old, 5000), false, 'stale extend');
      t.equal(await store.queue.retry(old, 0, 'x'), false, 'stale retry');
      t.equal(await store.queue.dead(old, 'x'), false, 'stale dead');
      t.equal((await store.queue.get('q', 'x'))?.state, 'leased', 'the new lease is untouched');
      t.equal(await store.queue.ack(fresh), true, 'the live lease acks');
    },
  },
  {
    desc: 'queue: extend keeps a lease live past its first expiry',
    async run(t, store) {
      await store.queue.enqueue('q', 'p', { id: 'x' });
      const [item] = await store.queue.lease('q', 1, 300);
      await sleep(150);
      t.equal(await store.queue.extend(item, 1000), true);
      await sleep(300 + SLACK_MS);
      t.same(await store.queue.lease('q', 1, 300), [], 'still leased');
      const got = await store.queue.get('q', 'x');
      t.ok(got?.state === 'leased' && got.dueAt > Date.now(), 'get: leased until later');
      t.equal(await store.queue.ack(item), true);
    },
  },
  {
    desc: 'queue: retry: due again after delayMs, with lastError and a growing attempt count',
    async run(t, store) {
      await store.queue.enqueue('q', 'p', { id: 'x' });
      const [one] = await store.queue.lease('q', 1, 5000);
      t.equal(await store.queue.retry(one, 400, 'upstream 503'), true);
      t.same(await store.queue.lease('q', 1, 5000), [], 'not before delayMs');
      const waiting = await store.queue.get('q', 'x');
      t.same([waiting?.state, waiting?.lastError, waiting?.attempts], ['delayed', 'upstream 503', 1]);
      await sleep(400 + SLACK_MS);
      const [two] = await store.queue.lease('q', 1, 5000);
      t.same([two?.id, two?.attempts, two?.lastError], ['x', 2, 'upstream 503']);
      t.equal(await store.queue.retry(two, 0, 'again'), true);
      const [three] = await store.queue.lease('q', 1, 5000);
      t.same([three?.attempts, three?.lastError], [3, 'again'], 'delay 0: due at once');
    },
  },
  {
    desc: 'queue: get shows each state (ready, delayed, leased, acked, dead) and undefined for an unknown id',
    async run(t, store) {
      await store.queue.enqueue('q', 1, { id: 'r', group: 'g' });
      await store.queue.enqueue('q', 2, { id: 'd', delayMs: 60_000 });
      await store.queue.enqueue('q', 3, { id: 'l', retainMs: 60_000 });
      await store.queue.enqueue('q', 4, { id: 'x' });
      const leased = await store.queue.lease('q', 3, 5000);
      const byId = new Map(leased.map((i) => [i.id, i]));
      await store.queue.ack(byId.get('l')!, 'ok');
      await store.queue.dead(byId.get('x')!, 'broken');
      await store.queue.enqueue('q', 5, { id: 'l2' });
      await store.queue.lease('q', 1, 5000);
      const states = await Promise.all(['r', 'd', 'l', 'x', 'l2'].map((id) => store.queue.get('q', id)));
      t.same(
        states.map((s) => s?.state),
        ['leased', 'delayed', 'acked', 'dead', 'leased'],
      );
      t.same([states[0]?.group, states[0]?.payload, states[0]?.attempts], ['g', 1, 1]);
      t.same([states[2]?.result, states[3]?.lastError], ['ok', 'broken']);
      t.ok(states[1]!.dueAt > Date.now() + 50_000, 'delayed: dueAt ahead');
      t.equal(await store.queue.get('q', 'nope'), undefined);
      await store.queue.enqueue('q2', 1, { id: 'ready' });
      t.equal((await store.queue.get('q2', 'ready'))?.state, 'ready');
    },
  },
  {
    desc: 'queue: remove forgets an item in any state; a live lease on it can no longer ack',
    async run(t, store) {
      await store.queue.enqueue('q', 1, { id: 'a' });
      await store.queue.enqueue('q', 2, { id: 'b', delayMs: 60_000 });
      const [a] = await store.queue.lease('q', 1, 5000);
      t.equal(await store.queue.remove('q', 'a'), true, 'leased');
      t.equal(await store.queue.ack(a), false, 'its lease cannot ack');
      t.equal(await store.queue.remove('q', 'b'), true, 'delayed');
      t.equal(await store.queue.remove('q', 'b'), false, 'already removed');
      t.equal(await store.queue.get('q', 'a'), undefined);
      t.same(await store.queue.stats('q'), { ready: 0, delayed: 0, leased: 0, dead: 0, oldestAgeMs: 0 });
    },
  },
  {
    desc: 'queue: stats counts ready, delayed, leased, dead and the oldest open age; queues() names the queues',
    async run(t, store) {
      t.same(await store.queue.stats('q'), { ready: 0, delayed: 0, leased: 0, dead: 0, oldestAgeMs: 0 }, 'empty');
      await store.queue.enqueue('q', 1, { id: 'old' });
      await sleep(200);
      for (let i = 0; i < 4; i++) await store.queue.enqueue('q', i, { id: `r${i}` });
      await store.queue.enqueue('q', 'd', { id: 'd', delayMs: 60_000 });
      const [l1, l2] = await store.queue.lease('q', 2, 5000);
      await store.queue.dead(l2, 'x');
      await store.queue.enqueue('other', 1);
      const s = await store.queue.stats('q');
      t.same([s.ready, s.delayed, s.leased, s.dead], [3, 1, 1, 1]);
      t.ok(s.oldestAgeMs >= 200 - SLACK_MS && s.oldestAgeMs < 5000, `oldest (leased, not acked) is ${s.oldestAgeMs} ms old`);
      await store.queue.ack(l1);
      t.ok((await store.queue.stats('q')).oldestAgeMs < 200, 'the oldest acked: the next one counts');
      t.same((await store.queues()).sort(), ['other', 'q']);
    },
  },
  ...leaseRace,
  {
    desc: 'queue: list: open items in enqueue order with their states, one state at a time, pages, acked left out',
    async run(t, store) {
      await store.queue.enqueue('q', 'dead', { id: 'd' });
      await store.queue.enqueue('q', 'acked', { id: 'a', retainMs: 60000 });
      await store.queue.enqueue('q', 'leased', { id: 'l' });
      for (const item of await store.queue.lease('q', 3, 60000)) {
        if (item.id === 'd') await store.queue.dead(item, 'boom');
        if (item.id === 'a') await store.queue.ack(item);
      }
      await store.queue.enqueue('q', 'ready', { id: 'r' });
      await store.queue.enqueue('q', 'delayed', { id: 'y', delayMs: 60000 });
      await store.queue.enqueue('other', 'elsewhere', { id: 'o' });
      const all = await store.queue.list('q');
      t.same(
        all.items.map((x) => [x.id, x.state, x.payload]),
        [
          ['l', 'leased', 'leased'],
          ['r', 'ready', 'ready'],
          ['y', 'delayed', 'delayed'],
        ],
        'open items, oldest first',
      );
      t.equal(all.cursor, undefined, 'one page');
      const cases: [string, string[]][] = [
        ['ready', ['r']],
        ['delayed', ['y']],
        ['leased', ['l']],
        ['dead', ['d']],
      ];
      for (const [state, ids] of cases) {
        const page = await store.queue.list('q', { state: state as 'ready' });
        t.same(
          page.items.map((x) => x.id),
          ids,
          `state ${state}`,
        );
      }
      const dead = (await store.queue.list('q', { state: 'dead' })).items[0];
      t.same([dead?.lastError, dead?.attempts, dead?.queue], ['boom', 1, 'q'], 'a dead item carries its last error');
      const p1 = await store.queue.list('q', { limit: 2 });
      t.same(
        p1.items.map((x) => x.id),
        ['l', 'r'],
        'first page',
      );
      t.ok(p1.cursor, 'a cursor');
      const p2 = await store.queue.list('q', { limit: 2, cursor: p1.cursor });
      t.same(
        p2.items.map((x) => x.id),
        ['y'],
        'second page',
      );
      t.equal(p2.cursor, undefined, 'the last page has no cursor');
      t.same((await store.queue.list('empty')).items, [], 'an unknown queue lists nothing');
      await t.rejects(store.queue.list('q', { state: 'acked' as 'ready' }), TypeError, 'acked cannot be listed');
    },
  },
];
