import t from 'tap';
import { request } from '../../helpers/servers';
import { admin, lbGateway, processJob, startWorker, TOKEN, until, waitStatus } from './harness';

t.setTimeout(120000);

const TASK_KEYS = ['id', 'service', 'state', 'progress', 'message', 'attempts', 'createdAt', 'startedAt', 'finishedAt', 'worker', 'eta'];

t.test('admin: tasks by state, one task, cancel, capacity with its inputs, metrics', async (t) => {
  const w = await startWorker(t);
  const { api, admin: base, adminUrl } = await lbGateway(t, [w.url], { capacity: { threshold: 1, stable: 1, intervalMs: 100 } });
  const done = await processJob(api, { tag: 'done' });
  await waitStatus(api, done, 'SUCCESS');
  const running = await processJob(api, { hold: 'r', progress: 5 });
  await waitStatus(api, running, 'PROGRESS');
  const queued = [await processJob(api, {}), await processJob(api, {}), await processJob(api, {})];

  const list = await admin(base, 'GET', '/tasks?state=queued&limit=2');
  t.equal(list.status, 200);
  t.equal(list.json.tasks.length, 2, 'limit');
  t.same(Object.keys(list.json.tasks[0]), TASK_KEYS, "the contract's fields, in order");
  t.ok(list.json.tasks.every((x: any) => x.state === 'queued' && queued.includes(x.id)));
  const all = await admin(base, 'GET', '/tasks');
  t.equal(all.json.tasks.length, 5);
  t.equal((await admin(base, 'GET', '/tasks?state=bogus')).status, 400);

  const one = await admin(base, 'GET', `/tasks/${done}`);
  t.same(Object.keys(one.json), [...TASK_KEYS, 'result', 'error']);
  t.match(one.json, { id: done, state: 'succeeded', attempts: 1, result: { tag: 'done' }, error: null, worker: `${w.url}/` });
  t.equal((await admin(base, 'GET', '/tasks/nope')).status, 404);

  const canceled = await admin(base, 'DELETE', `/tasks/${queued[2]}`);
  t.equal(canceled.status, 200);
  t.equal(canceled.json.state, 'canceled');
  t.equal((await admin(base, 'DELETE', `/tasks/${done}`)).status, 409);

  await until(
    async () => {
      const c = (await admin(base, 'GET', '/capacity')).json;
      return c.delta === 1 && c.depth === 2;
    },
    10000,
    50,
  );
  const cap = await admin(base, 'GET', '/capacity');
  t.match(cap.json, { service: 'annotator', depth: 2, busy: 1, idle: 0, booting: 0, delta: 1 });
  t.match(cap.json.inputs, { threshold: 1, spawnRatio: 0.2, minIdle: 1, max: 50, running: 1, slots: 1 });

  const m = await request(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  for (const series of [
    'gatehouse_load_balancer_capacity_delta{service="annotator",instance="lb"} 1',
    'gatehouse_load_balancer_queue_depth{service="annotator",instance="lb"} 2',
    'gatehouse_load_balancer_tasks_running{service="annotator",instance="lb"} 1',
    'gatehouse_load_balancer_workers{service="annotator",state="busy",instance="lb"} 1',
    'gatehouse_load_balancer_tasks_total{service="annotator",state="succeeded",instance="lb"} 1',
    'gatehouse_load_balancer_tasks_total{service="annotator",state="canceled",instance="lb"} 1',
    'gatehouse_load_balancer_wait_seconds_count{service="annotator",instance="lb"} 2',
    'gatehouse_load_balancer_run_seconds_count{service="annotator",state="succeeded",instance="lb"} 1',
  ])
    t.ok(m.body.includes(series), series);
  w.release('r');
});
