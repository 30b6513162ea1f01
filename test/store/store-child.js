#!/usr/bin/env node
'use strict';
/**
 * A second (third, fifth) process on the same store, for test/store/contract.ts and crash.test.ts.
 *
 *   node store-child.js '<spec json>' <role> [args...]
 *
 * spec: { backend: 'sqlite' | 'redis', options } as the contract suite's `fresh` gave it; the
 * compiled backend (dist/core/store/<backend>/index.js) is constructed with `options`. Reports one
 * line per event on stdout; `ready` once it is set up. Roles that wait for a go read one line
 * from stdin first. Exits 0 when its role is done, 1 (with the error on stderr) on failure.
 */
const path = require('node:path');
const readline = require('node:readline');

const [specJson, role, ...args] = process.argv.slice(2);
const spec = JSON.parse(specJson);
const mod = require(path.join(__dirname, '..', '..', 'dist', 'core', 'store', spec.backend, 'index.js'));
const Store = spec.backend === 'sqlite' ? mod.SqliteStore : mod.RedisStore;
const out = (line) => process.stdout.write(line + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const go = () => new Promise((resolve) => readline.createInterface({ input: process.stdin }).once('line', resolve));

const roles = {
  /** Lease from `queue` until it is empty, printing `leased <id> <attempts>` and `acked <id>`. */
  async 'lease-worker'(store, queue, leaseMs = '30000', batch = '3') {
    out('ready');
    await go();
    let idle = 0;
    for (;;) {
      const items = await store.queue.lease(queue, Number(batch), Number(leaseMs));
      if (items.length === 0) {
        const s = await store.queue.stats(queue);
        if (s.ready + s.delayed + s.leased === 0 || ++idle > 400) break;
        await sleep(5);
        continue;
      }
      idle = 0;
      for (const item of items) out(`leased ${item.id} ${item.attempts}`);
      // Hold the leases a moment so that the other processes lease while these are live.
      await sleep(Math.random() * 3);
      for (const item of items) out(`${(await store.queue.ack(item)) ? 'acked' : 'lost'} ${item.id}`);
    }
    out('done');
  },
  /** Print `change <json>` for every change under `prefix`; runs until killed. */
  async watcher(store, prefix) {
    store.kv.watch(
      prefix,
      (c) => out(`change ${JSON.stringify(c)}`),
      (err) => out(`error ${err.message}`),
    );
    await store.kv.get('__watch-settle');
    await sleep(300);
    out('ready');
    await new Promise(() => undefined);
  },
  /** Set `key` to the JSON `value` after a go line, print `set <version>`. */
  async setter(store, key, value) {
    out('ready');
    await go();
    out(`set ${await store.kv.set(key, JSON.parse(value))}`);
  },
  /** Try to take lock `name` for `ttlMs`, print `lock 1` or `lock 0`, keep it `holdMs`, then release. */
  async locker(store, name, ttlMs, holdMs = '0') {
    const lock = await store.locks.acquire(name, Number(ttlMs));
    out(`lock ${lock ? 1 : 0}`);
    if (lock && Number(holdMs) > 0) await sleep(Number(holdMs));
  },
  /** Enqueue `prefix-<n>` to `queue` with `concurrency` in flight, printing `ok <id>` once each resolved; until killed. */
  async enqueuer(store, queue, prefix, concurrency = '32') {
    out('ready');
    let n = 0;
    await Promise.all(
      Array.from({ length: Number(concurrency) }, async () => {
        for (;;) {
          const id = `${prefix}-${n++}`;
          const r = await store.queue.enqueue(queue, { id, at: Date.now() }, { id });
          out(`${r.duplicate ? 'dup' : 'ok'} ${id}`);
        }
      }),
    );
  },
};

(async () => {
  if (!roles[role]) throw new Error(`unknown role ${role}`);
  const store = new Store(spec.options);
  await store.open();
  await roles[role](store, ...args);
  await store.close();
})().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err.stack || err}\n`);
    process.exit(1);
  },
);
