import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ROOT, startGatehouse, tempDir } from '../../helpers/gatehouse-process';
import { startRedis } from '../../helpers/redis';
import { call, processJob, status, until, waitStatus } from './harness';

t.setTimeout(300000);
const WORKER = join(ROOT, 'examples/service-gateway/worker.js');

interface Stats {
  busy: number;
  maxConcurrent: number;
  violations: number;
  ran: Record<string, number>;
}

/** The example's demo worker as a real child process; resolves with its URL. */
async function workerProcess(t: Test, name: string): Promise<{ url: string; stats(): Promise<Stats> }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(WORKER)}).startWorker(0, ${JSON.stringify(name)}).then(({ server }) => console.log(server.address().port))`,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', () => reject(new Error(`worker ${name} exited`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return { url, stats: async () => (await call(`${url}/stats`)).json as Stats };
}

/** The stores it runs on; Redis with a redis-server of the test's own (skipped loudly where none is installed). */
const backends: { name: string; url(t: Test, dir: string): Promise<string | undefined> }[] = [
  { name: 'redis', url: async (t) => (await startRedis(t))?.url },
  { name: 'sqlite', url: async (_t, dir) => `sqlite:${join(dir, 'gatehouse.db')}` },
];

for (const backend of backends)
  t.test(
    `${backend.name}: two gatehouse processes on one store, two workers at maxConnectionsPerTarget 1; then SIGKILL mid-run`,
    async (t) => {
      const dir = tempDir(t, 'lb-shared-');
      const storeUrl = await backend.url(t, dir);
      if (!storeUrl) return;
      const workers = [await workerProcess(t, 'w1'), await workerProcess(t, 'w2')];
      const file = join(dir, 'gatehouse.yaml');
      writeFileSync(
        file,
        [
          'server: { http: { port: 0, host: 127.0.0.1 } }',
          'log: { level: info, accessLog: false }',
          `store: ${storeUrl}`,
          `upstreams: { workers: { targets: ["${workers[0].url}", "${workers[1].url}"], maxConnectionsPerTarget: 1 } }`,
          'routes:',
          '  - match: { path: /annotator/ }',
          '    plugins:',
          '      - load-balancer: { service: annotator, upstream: workers, heartbeatMs: 1500, pollMs: 20, maxAttempts: 5 }',
          '        id: annotator',
          '',
        ].join('\n'),
      );
      const a = await startGatehouse(t, file);
      const b = await startGatehouse(t, file);
      const api = (p: { port: number }) => `http://127.0.0.1:${p.port}/annotator`;

      // 20 tasks through both processes.
      const ids = await Promise.all(
        Array.from({ length: 20 }, (_, i) => processJob(api(i % 2 ? a : b), { text: `task ${i}`, ms: 150 } as never)),
      );
      for (const id of ids) t.equal((await waitStatus(api(a), id, 'SUCCESS', 60000)).status, 'SUCCESS');
      const s1 = await Promise.all(workers.map((w) => w.stats()));
      t.same(
        s1.map((s) => [s.maxConcurrent, s.violations]),
        [
          [1, 0],
          [1, 0],
        ],
        'no worker ever ran two at once',
      );
      const ran = { ...s1[0].ran, ...s1[1].ran };
      t.same(Object.keys(ran).sort(), [...ids].sort(), 'every task ran');
      t.ok(
        ids.every((id) => (s1[0].ran[id] ?? 0) + (s1[1].ran[id] ?? 0) === 1),
        'each exactly once',
      );
      t.ok(
        s1.every((s) => Object.keys(s.ran).length > 0),
        'both workers were used',
      );

      // SIGKILL: only `a` serves; it is killed with tasks running and queued, then started again.
      b.child.kill('SIGTERM');
      await b.exited;
      const more = [];
      for (let i = 0; i < 8; i++) more.push(await processJob(api(a), { text: `after ${i}`, ms: 400 } as never));
      await until(async () => (await status(api(a), more[0])).status === 'PROGRESS', 20000, 20);
      a.child.kill('SIGKILL');
      await a.exited;
      const again = await startGatehouse(t, file);
      for (const id of more)
        t.equal((await waitStatus(api(again), id, 'SUCCESS', 60000)).status, 'SUCCESS', `${id} completed after the restart`);
      const s2 = await Promise.all(workers.map((w) => w.stats()));
      t.same(
        s2.map((s) => [s.maxConcurrent, s.violations]),
        [
          [1, 0],
          [1, 0],
        ],
        'still never two at once, across the kill',
      );
      const runs = more.map((id) => (s2[0].ran[id] ?? 0) + (s2[1].ran[id] ?? 0));
      t.ok(
        runs.every((n) => n >= 1 && n <= 2),
        `each ran once, those on a worker at the kill at most twice: ${runs.join(',')}`,
      );
      t.ok(runs.filter((n) => n === 2).length <= 2, 'only those running at the kill (two workers) ran again');
      const view = (await call(`${api(again)}/tasks/${more[0]}`)).json;
      t.equal(view.attempts, 2, 'the task running at the kill was a second attempt');
      again.child.kill('SIGTERM');
      await again.exited;
    },
  );
