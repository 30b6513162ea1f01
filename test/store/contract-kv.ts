import type { KvChange } from '../../core/store/types';
import { SLACK_MS, sleep, storeChild, within, type ContractCase } from './contract-util';

/** kv cases of the contract suite. */
export const kvCases: ContractCase[] = [
  {
    desc: 'kv: set then get returns the value and a version > 0; a missing key is undefined',
    async run(t, store) {
      const v1 = await store.kv.set('a', { n: 1 });
      t.ok(v1 > 0, 'version is never 0');
      t.same(await store.kv.get('a'), { key: 'a', value: { n: 1 }, version: v1 });
      const v2 = await store.kv.set('a', { n: 2 });
      t.ok(v2 > v1, 'versions of one key grow');
      t.same((await store.kv.get('a'))?.value, { n: 2 });
      t.equal(await store.kv.get('missing'), undefined);
    },
  },
  {
    desc: 'kv: revisions are store-wide: a write to another key moves the version on',
    async run(t, store) {
      const a1 = await store.kv.set('a', 1);
      const b1 = await store.kv.set('b', 1);
      const a2 = await store.kv.set('a', 2);
      t.ok(b1 > a1 && a2 > b1, `${a1} < ${b1} < ${a2}`);
      t.equal((await store.kv.get('b'))?.version, b1);
    },
  },
  {
    desc: 'kv: JSON values round-trip (null, false, 0, strings with unicode, nested arrays and objects)',
    async run(t, store) {
      const values = [null, false, 0, -1.5, '', 'é😀\u0000x', [1, [2, { a: null }]], { deep: { er: ['x', true] } }];
      for (const [i, v] of values.entries()) await store.kv.set(`v${i}`, v);
      for (const [i, v] of values.entries()) t.same((await store.kv.get(`v${i}`))?.value, v, JSON.stringify(v));
    },
  },
  {
    desc: 'kv: delete reports whether a live entry was there',
    async run(t, store) {
      await store.kv.set('a', 1);
      t.equal(await store.kv.delete('a'), true);
      t.equal(await store.kv.get('a'), undefined);
      t.equal(await store.kv.delete('a'), false, 'second delete');
      t.equal(await store.kv.delete('never'), false);
    },
  },
  {
    desc: 'kv: TTL: expiresAt set, entry gone after ttlMs (get, list, delete); a later set without ttlMs keeps it',
    async run(t, store) {
      const before = Date.now();
      await store.kv.set('t/a', 'x', { ttlMs: 300 });
      await store.kv.set('t/b', 'y', { ttlMs: 300 });
      const e = await store.kv.get('t/a');
      t.equal(e?.value, 'x', 'present before expiry');
      t.ok(
        e?.expiresAt !== undefined && Math.abs(e.expiresAt - (before + 300)) < SLACK_MS + 100,
        `expiresAt ${e?.expiresAt} ≈ ${before + 300}`,
      );
      await store.kv.set('t/b', 'z');
      t.equal((await store.kv.get('t/b'))?.expiresAt, undefined, 'a set without ttlMs drops the TTL');
      await sleep(300 + SLACK_MS);
      t.equal(await store.kv.get('t/a'), undefined, 'gone after ttl');
      t.same(
        (await store.kv.list('t/')).entries.map((x) => x.key),
        ['t/b'],
        'list leaves it out',
      );
      t.equal(await store.kv.delete('t/a'), false, 'delete of an expired entry finds none');
      t.equal((await store.kv.get('t/b'))?.value, 'z');
    },
  },
  {
    desc: 'kv: cas with 0 writes only when absent (never set, deleted or expired)',
    async run(t, store) {
      const r1 = await store.kv.cas('c', 0, 'first');
      t.equal(r1.ok, true, 'absent: written');
      const r2 = await store.kv.cas('c', 0, 'second');
      t.equal(r2.ok, false, 'present: refused');
      t.equal(!r2.ok && r2.current?.value, 'first', 'reports the current entry');
      await store.kv.delete('c');
      t.equal((await store.kv.cas('c', 0, 'third')).ok, true, 'deleted: written');
      await store.kv.set('e', 1, { ttlMs: 100 });
      await sleep(100 + SLACK_MS);
      const r3 = await store.kv.cas('e', 0, 2);
      t.equal(r3.ok, true, 'expired counts as absent');
      t.equal((await store.kv.get('e'))?.value, 2);
    },
  },
  {
    desc: 'kv: cas with the current version wins once; a stale or made-up version fails and shows the current entry',
    async run(t, store) {
      const v1 = await store.kv.set('k', 'a');
      const r = await store.kv.cas('k', v1, 'b');
      t.ok(r.ok && r.version > v1, 'current version: written with a newer version');
      const again = await store.kv.cas('k', v1, 'c');
      t.equal(again.ok, false, 'the same stale version a second time fails');
      t.same(!again.ok && again.current && [again.current.value, again.current.version], ['b', r.ok && r.version]);
      t.equal((await store.kv.cas('missing', 5, 'x')).ok, false, 'a version for an absent key fails');
      t.equal(await store.kv.get('missing'), undefined, 'and writes nothing');
      const ttl = await store.kv.cas('k', r.ok ? r.version : -1, 'd', { ttlMs: 5000 });
      t.ok(ttl.ok && (await store.kv.get('k'))?.expiresAt !== undefined, 'cas takes ttlMs');
    },
  },
  {
    desc: 'kv: list: prefix only, UTF-8 byte order, pages with cursor (none on the last page), limit',
    async run(t, store) {
      const keys = ['p', 'p/a', 'p/b', 'p/é', 'p/\uffff', 'p/😀', 'p/z'];
      for (const k of [...keys].reverse()) await store.kv.set(k, k);
      await store.kv.set('o', 'out');
      await store.kv.set('q/x', 'out');
      const all = await store.kv.list('p');
      t.same(
        all.entries.map((e) => e.key),
        ['p', 'p/a', 'p/b', 'p/z', 'p/é', 'p/\uffff', 'p/😀'],
        'byte order of UTF-8 (U+FFFF before U+1F600)',
      );
      t.equal(all.cursor, undefined);
      t.same((await store.kv.list('p/a')).entries[0].value, 'p/a');
      for (let i = 0; i < 20; i++) await store.kv.set(`pg/${String(i).padStart(2, '0')}`, i);
      const p1 = await store.kv.list('pg/', { limit: 8 });
      const p2 = await store.kv.list('pg/', { limit: 8, cursor: p1.cursor });
      const p3 = await store.kv.list('pg/', { limit: 8, cursor: p2.cursor });
      t.same([p1.entries.length, p2.entries.length, p3.entries.length], [8, 8, 4]);
      t.ok(p1.cursor && p2.cursor, 'cursors on pages 1 and 2');
      t.equal(p3.cursor, undefined, 'no cursor on the last page');
      t.same(
        [...p1.entries, ...p2.entries, ...p3.entries].map((e) => e.value),
        Array.from({ length: 20 }, (_, i) => i),
      );
      const exact = await store.kv.list('pg/', { limit: 20 });
      t.same([exact.entries.length, exact.cursor], [20, undefined], 'a page that ends exactly at the limit is the last');
      t.equal((await store.kv.list('pg/')).entries.length, 20, 'default limit 100');
      t.same((await store.kv.list('nothing/')).entries, []);
    },
  },
  {
    desc: 'kv: watch in-process: sets and deletes under the prefix, in revision order; unwatch stops it',
    async run(t, store) {
      const seen: KvChange[] = [];
      const unwatch = store.kv.watch('w/', (c) => seen.push(c));
      t.teardown(unwatch);
      await sleep(200);
      const v1 = await store.kv.set('w/a', { x: 1 });
      await store.kv.set('other', 1);
      const v2 = await store.kv.set('w/b', 2);
      await store.kv.delete('w/a');
      await within(1000, () => seen.length >= 3);
      t.same(
        seen.map((c) => [c.type, c.key, c.value]),
        [
          ['set', 'w/a', { x: 1 }],
          ['set', 'w/b', 2],
          ['delete', 'w/a', undefined],
        ],
      );
      t.same([seen[0].revision, seen[1].revision], [v1, v2], 'revision is the version written');
      t.ok(seen[2].revision > v2, 'a delete takes a revision');
      unwatch();
      unwatch();
      await store.kv.set('w/c', 3);
      await sleep(500);
      t.equal(seen.length, 3, 'nothing after unwatch');
    },
  },
  {
    desc: 'kv: watch across two processes, both ways, within 1 s',
    async run(t, store, spec) {
      const seen: KvChange[] = [];
      store.kv.watch('x/', (c) => seen.push(c));
      const watcher = storeChild(t, spec, 'watcher', 'x/');
      const setter = storeChild(t, spec, 'setter', 'x/from-child', '{"n":7}');
      await Promise.all([watcher.waitFor((l) => l === 'ready'), setter.waitFor((l) => l === 'ready')]);
      await sleep(200);
      setter.send('go');
      const setLine = await setter.waitFor((l) => l.startsWith('set '));
      const seenHere = await within(1000, () => seen.some((c) => c.key === 'x/from-child'));
      t.ok(seenHere <= 1000, `the child's write seen here after ${seenHere} ms`);
      t.same(
        seen.find((c) => c.key === 'x/from-child'),
        { type: 'set', key: 'x/from-child', revision: Number(setLine.slice(4)), value: { n: 7 } },
      );
      const start = Date.now();
      await store.kv.set('x/from-parent', 'hi');
      const line = await watcher.waitFor((l) => l.includes('x/from-parent'), 1500);
      const ms = Date.now() - start;
      t.ok(ms <= 1000, `this process's write seen by the child after ${ms} ms`);
      t.same(JSON.parse(line.slice(7)).value, 'hi');
      t.ok(
        watcher.lines.some((l) => l.includes('x/from-child')),
        'the child watcher saw the other child too',
      );
    },
  },
];
