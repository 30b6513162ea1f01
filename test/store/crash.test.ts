import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { buildIfStale } from '../helpers/cli-run';
import { openSpec, storeChild, type StoreSpec } from './child';

/**
 * "Resolved means durable": a child enqueues as fast as it can (32 in flight), printing each id
 * once its enqueue resolved, and is SIGKILLed at a random moment, 20 times over one store.
 * Afterwards every printed id is there, once. Run per backend: add one to `backends`.
 */
interface CrashBackend {
  readonly name: string;
  /** A store nobody has used yet, as the child opens it (cleaned up at teardown). */
  spec(t: Test): Promise<StoreSpec>;
}

const backends: CrashBackend[] = [
  {
    name: 'sqlite',
    async spec(t) {
      const dir = mkdtempSync(join(tmpdir(), 'gh-store-crash-'));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      return { backend: 'sqlite', options: { path: join(dir, 'crash.db'), durability: 'strict' } };
    },
  },
];

const ROUNDS = 20;
const QUEUE = 'crash';

buildIfStale();

for (const backend of backends) {
  t.test(`${backend.name}: ${ROUNDS} SIGKILLs at random moments lose no resolved enqueue and duplicate none`, async (t) => {
    const spec = await backend.spec(t);
    const resolved: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const child = storeChild(t, spec, 'enqueuer', QUEUE, `r${round}`, '32');
      const target = 150 + Math.floor(Math.random() * 600);
      await child.waitFor(() => child.lines.length > target, 30_000);
      // Not in step with the line that crossed the target: anywhere in the next few commits.
      await new Promise((r) => setTimeout(r, Math.random() * 20));
      child.child.kill('SIGKILL');
      const end = await child.exited;
      t.equal(end.signal, 'SIGKILL', `round ${round}: killed after ${child.lines.length - 1} resolves`);
      for (const line of child.lines) {
        if (line.startsWith('ok ')) resolved.push(line.slice(3));
        else if (line !== 'ready') t.fail(`round ${round}: unexpected line ${line}`);
      }
    }
    const store = await openSpec(t, spec);
    const missing: string[] = [];
    for (let i = 0; i < resolved.length; i += 200) {
      const items = await Promise.all(resolved.slice(i, i + 200).map((id) => store.queue.get(QUEUE, id)));
      items.forEach((item, j) => {
        if (item?.state !== 'ready' || (item.payload as { id?: string }).id !== resolved[i + j]) missing.push(resolved[i + j]);
      });
    }
    t.same(missing.slice(0, 20), [], `all ${resolved.length} resolved enqueues present (${missing.length} missing)`);
    const seen = new Map<string, number>();
    for (;;) {
      const batch = await store.queue.lease(QUEUE, 1000, 60_000);
      if (batch.length === 0) break;
      for (const item of batch) seen.set(item.id, (seen.get(item.id) ?? 0) + 1);
    }
    t.same(
      [...seen].filter(([, n]) => n > 1),
      [],
      `no item twice among the ${seen.size} stored`,
    );
    t.ok(seen.size >= resolved.length, `stored ${seen.size} ≥ resolved ${resolved.length} (the rest were in flight at a kill)`);
  });
}
