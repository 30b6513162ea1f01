import { join, resolve } from 'node:path';
import t from 'tap';
import { createGateway } from '../../../app';
import { tempDir } from '../../helpers/gatehouse-process';
import { testLogger } from '../../helpers/servers';
import { call, waitStatus } from './harness';

t.setTimeout(120000);
const DIR = resolve(__dirname, '../../../examples/service-gateway');
/* eslint-disable @typescript-eslint/no-require-imports -- the example's own plain-JS workers */
const { startWorker } = require(join(DIR, 'worker.js')) as {
  startWorker(
    port: number,
    name: string,
  ): Promise<{ server: import('node:http').Server; stats: { maxConcurrent: number; violations: number; ran: Record<string, number> } }>;
};
const { startPullWorker } = require(join(DIR, 'pull-worker.js')) as {
  startPullWorker(url: string, token?: string, opts?: { waitMs?: number; onError?: (e: Error) => void }): { stop(): Promise<void> };
};
/* eslint-enable @typescript-eslint/no-require-imports */

t.test('examples/service-gateway: two pushed demo workers and a pulling one serve the SG flow', async (t) => {
  const workers = await Promise.all([startWorker(0, 'worker-1'), startWorker(0, 'worker-2')]);
  t.teardown(() => Promise.all(workers.map((w) => new Promise<void>((r) => w.server.close(() => r())))).then(() => undefined));
  const url = (w: (typeof workers)[number]) => `http://127.0.0.1:${(w.server.address() as { port: number }).port}`;
  const env = {
    PORT: '0',
    ADMIN_PORT: '0',
    WORKER1_URL: url(workers[0]),
    WORKER2_URL: url(workers[1]),
    STORE_FILE: join(tempDir(t, 'sg-example-'), 'gatehouse.db'),
  };
  const gw = await createGateway({ config: join(DIR, 'gatehouse.yaml'), env, logger: testLogger() });
  await gw.listen();
  t.teardown(() => gw.close(100));
  const base = `http://127.0.0.1:${gw.addresses.http!.port}`;

  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await call(`${base}/annotator/process`, 'POST', { text: `hello world ${i}`, ms: 400 })).json.uuid);
  const progress = await waitStatus(`${base}/annotator`, ids[0], (s) => s.status === 'PROGRESS' || s.status === 'SUCCESS');
  t.ok(progress.status === 'SUCCESS' || progress.result.total === 100, 'progress reported on the way');
  for (const id of ids) {
    const s = await waitStatus(`${base}/annotator`, id, 'SUCCESS');
    t.equal(s.result.words, 3);
  }
  t.same(
    workers.map((w) => [w.stats.maxConcurrent, w.stats.violations]),
    [
      [1, 0],
      [1, 0],
    ],
    'one task at a time on each worker',
  );
  t.ok(
    workers.every((w) => Object.keys(w.stats.ran).length > 0),
    'both workers took tasks',
  );

  const puller = startPullWorker(base, undefined, { waitMs: 1000, onError: () => undefined });
  t.teardown(() => puller.stop());
  const pulled = (await call(`${base}/transcriber/process`, 'POST', { text: 'Pulled By A Worker', ms: 200 })).json.uuid;
  const done = await waitStatus(`${base}/transcriber`, pulled, 'SUCCESS');
  t.same(done.result, { transcript: 'pulled by a worker', attempt: 1 });
});
