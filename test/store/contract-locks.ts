import { SLACK_MS, sleep, storeChild, type ContractCase } from './contract-util';

/** lock cases of the contract suite. */
export const lockCases: ContractCase[] = [
  {
    desc: 'locks: exclusive while held, free again after release; release twice is harmless',
    async run(t, store) {
      const a = await store.locks.acquire('job', 5000);
      t.ok(a, 'acquired');
      t.equal(a?.name, 'job');
      t.equal(await store.locks.acquire('job', 5000), undefined, 'held: refused');
      t.ok(await store.locks.acquire('other', 5000), 'another name is independent');
      await a!.release();
      await a!.release();
      const b = await store.locks.acquire('job', 5000);
      t.ok(b, 'free after release');
      t.not(b?.token, a?.token, 'a new token');
      await a!.release();
      t.equal(await store.locks.acquire('job', 5000), undefined, "a lost holder's release does not free the new holder's lock");
    },
  },
  {
    desc: 'locks: expire after ttlMs and can be taken; the old holder then cannot renew',
    async run(t, store) {
      const a = await store.locks.acquire('job', 200);
      await sleep(200 + SLACK_MS);
      const b = await store.locks.acquire('job', 5000);
      t.ok(b, 'taken after expiry');
      t.equal(await a!.renew(), false, 'the old holder lost it');
      t.equal(await b!.renew(), true, 'the new holder renews');
    },
  },
  {
    desc: 'locks: renew keeps the lock past its ttl (default: the acquiring ttl, or the one given)',
    async run(t, store) {
      const a = await store.locks.acquire('job', 300);
      await sleep(150);
      t.equal(await a!.renew(), true);
      await sleep(200);
      t.equal(await store.locks.acquire('job', 300), undefined, 'still held 350 ms after acquiring');
      t.equal(await a!.renew(1000), true);
      await sleep(300 + SLACK_MS);
      t.equal(await store.locks.acquire('job', 300), undefined, 'renew(1000) held it longer');
    },
  },
  {
    desc: 'locks: exclusive across processes',
    async run(t, store, spec) {
      const held = await store.locks.acquire('shared', 10_000);
      const refused = storeChild(t, spec, 'locker', 'shared', '5000');
      t.ok(await refused.waitFor((l) => l === 'lock 0'), 'the child is refused while this process holds it');
      await held!.release();
      const taker = storeChild(t, spec, 'locker', 'shared', '5000', '800');
      await taker.waitFor((l) => l === 'lock 1');
      t.equal(await store.locks.acquire('shared', 5000), undefined, 'and this process while the child holds it');
    },
  },
];
