// Crash safety particular to Redis: redis-server itself SIGKILLed at a random moment while a child
// enqueues as fast as it can, and restarted from its AOF. Every enqueue that resolved must be
// there afterwards, none twice. (SIGKILL of gatehouse is the generic test/store/crash.test.ts,
// with a redis row in its backends.)
import t from 'tap';
import type { Test } from 'tap';
import { RedisStore } from '../../core/store/redis';
import { buildIfStale } from '../helpers/cli-run';
import { startRedis } from '../helpers/redis';
import { storeChild, type StoreSpec } from './child';

buildIfStale();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lease everything out of `queue` and check it against the ids whose enqueue resolved. */
async function verify(t: Test, options: StoreSpec['options'], queue: string, resolved: Set<string>, rounds: number): Promise<void> {
  const store = new RedisStore(options as ConstructorParameters<typeof RedisStore>[0]);
  await store.open();
  t.teardown(() => store.close());
  const ids: string[] = [];
  let payloadsMatch = true;
  for (;;) {
    const items = await store.queue.lease<{ id: string }>(queue, 1000, 600_000);
    if (items.length === 0) break;
    for (const it of items) {
      ids.push(it.id);
      if (it.payload.id !== it.id) payloadsMatch = false;
    }
  }
  const present = new Set(ids);
  const missing = [...resolved].filter((id) => !present.has(id));
  t.ok(resolved.size > rounds, `${resolved.size} enqueues resolved over ${rounds} rounds`);
  t.same(missing.slice(0, 10), [], `every resolved enqueue is present (${missing.length} missing)`);
  t.equal(present.size, ids.length, `none twice (${ids.length} items)`);
  t.ok(payloadsMatch, 'each payload is its own');
  // What was in flight at a kill may or may not have landed: at most the child's concurrency per round.
  t.ok(ids.length - resolved.size <= rounds * 32, `${ids.length - resolved.size} written but not yet answered at the kills`);
}

const cases = [
  {
    desc: 'redis-server SIGKILLed at a random moment and restarted from its AOF, 10 times (appendfsync always)',
    rounds: 10,
    fsync: 'always' as const,
  },
];

for (const c of cases) {
  t.test(c.desc, async (t) => {
    const srv = await startRedis(t, { appendfsync: c.fsync });
    if (!srv) return;
    const options = { url: srv.url, durability: 'strict' as const, prefix: 'crash:', connectTimeoutMs: 5000 };
    const spec: StoreSpec = { backend: 'redis', options };
    const resolved = new Set<string>();
    let dups = 0;
    for (let round = 0; round < c.rounds; round++) {
      const child = storeChild(t, spec, 'enqueuer', 'crash', `r${round}`, '32');
      await child.waitFor((l) => l === 'ready');
      await sleep(50 + Math.random() * 400);
      await srv.kill();
      await sleep(20);
      child.child.kill('SIGKILL');
      await child.exited;
      for (const line of child.lines) {
        if (line.startsWith('ok ')) resolved.add(line.slice(3));
        else if (line.startsWith('dup ')) dups++;
      }
      await srv.restart();
    }
    t.equal(dups, 0, 'no enqueue was answered as a duplicate');
    await verify(t, options, 'crash', resolved, c.rounds);
  });
}
