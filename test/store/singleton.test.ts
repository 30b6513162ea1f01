import t from 'tap';
import { join } from 'node:path';
import { createGateway, definePlugin, type Gateway } from '../../app';
import { captureLogger } from '../helpers/servers';
import { tempDir } from '../helpers/gatehouse-process';

/**
 * `scope.task(…, { singleton: true })`: among gateways sharing a store, one runs the task at a
 * time; when it stops, another takes over within a renewal period. Two gateways in this process
 * on one SQLite file stand for two processes (the lock is in the file, not in memory).
 */

/** Which gateway's task runs now, and the most ever running at once. */
const seen = { running: new Set<string>(), max: 0, starts: [] as string[] };

const leader = definePlugin({
  name: 'leader-probe',
  schema: { type: 'object', properties: { who: { type: 'string' } }, required: ['who'], additionalProperties: false },
  create(options: { who: string }, scope) {
    scope.task(
      'loop',
      async (signal) => {
        seen.running.add(options.who);
        seen.max = Math.max(seen.max, seen.running.size);
        seen.starts.push(options.who);
        try {
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        } finally {
          seen.running.delete(options.who);
        }
      },
      { singleton: true },
    );
    return {};
  },
});

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return what();
}

t.test('a singleton task runs in one gateway of those sharing the store, and moves when that one stops', async (t) => {
  const dir = tempDir(t);
  const store = `sqlite:${join(dir, 'shared.db')}`;
  const make = async (who: string): Promise<Gateway> => {
    const gw = await createGateway({
      config: {
        server: { http: { port: 0, host: '127.0.0.1' } },
        store,
        routes: [{ match: { path: '/' }, plugins: [{ 'leader-probe': { who } }] }],
      },
      plugins: [leader],
      logger: captureLogger('warn').logger,
    });
    t.teardown(() => gw.close(100));
    return gw;
  };
  const a = await make('a');
  t.ok(await until(() => seen.running.has('a'), 2000), 'the first gateway took the task');
  const b = await make('b');
  await new Promise((r) => setTimeout(r, 4000));
  t.same([...seen.running], ['a'], 'the second gateway waited: more than a renewal period later only a runs');
  const stopped = Date.now();
  await a.close(100);
  t.ok(await until(() => seen.running.has('b'), 5000), 'b took over once a stopped');
  t.ok(Date.now() - stopped < 4500, `within a renewal period (${Date.now() - stopped} ms)`);
  t.equal(seen.max, 1, 'never two at once');
  const metrics = await b.metrics.registry.getSingleMetricAsString('gatehouse_plugin_task_leader');
  t.match(metrics, /gatehouse_plugin_task_leader\{plugin="leader-probe",instance="leader-probe#1",task="loop"\} 1/, 'b reports holding it');
});
