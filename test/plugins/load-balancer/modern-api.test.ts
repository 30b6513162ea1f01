import t from 'tap';
import { deadPort } from '../../helpers/servers';
import { admin, call, lbGateway, processJob, startWorker, until, waitStatus } from './harness';

t.setTimeout(120000);

t.test('POST /tasks: 202 with Location and Retry-After; GET follows it to succeeded; the SG view is the same task', async (t) => {
  const w = await startWorker(t);
  const { api, url } = await lbGateway(t, [w.url]);
  const r = await call(`${api}/tasks`, 'POST', { hold: 'm', progress: 30, tag: 'modern' });
  t.equal(r.status, 202);
  t.equal(r.headers.location, `/annotator/tasks/${r.json.id}`);
  t.match(r.headers['retry-after'], /^\d+$/);
  t.match(r.json, {
    id: String,
    service: 'annotator',
    state: 'queued',
    attempts: 0,
    startedAt: null,
    finishedAt: null,
    result: null,
    error: null,
  });
  await until(async () => (await call(`${url}${r.headers.location}`)).json.progress === 30, 10000, 20);
  const running = await call(`${url}${r.headers.location}`);
  t.match(running.json, { state: 'running', progress: 30, message: 'at 30', attempts: 1, worker: `${w.url}/` });
  t.type(running.json.startedAt, 'number');
  t.equal((await call(`${api}/status?uuid=${r.json.id}`)).json.status, 'PROGRESS', 'the SG view of the same record');
  w.release('m');
  await until(async () => (await call(`${url}${r.headers.location}`)).json.state === 'succeeded', 10000, 20);
  const done = await call(`${url}${r.headers.location}`);
  t.equal(done.status, 200);
  t.notOk(done.headers['retry-after'], 'no Retry-After once finished');
  t.match(done.json, { state: 'succeeded', progress: 100, result: { tag: 'modern' }, error: null, eta: null });
  t.type(done.json.finishedAt, 'number');
});

t.test('Idempotency-Key: a retried POST is the same task, run once', async (t) => {
  const w = await startWorker(t);
  const { api } = await lbGateway(t, [w.url]);
  const key = { 'idempotency-key': 'order-42' };
  const a = await call(`${api}/tasks`, 'POST', { tag: 'once' }, key);
  const b = await call(`${api}/tasks`, 'POST', { tag: 'once' }, key);
  t.equal(a.json.id, b.json.id);
  const other = await call(`${api}/tasks`, 'POST', { tag: 'once' }, { 'idempotency-key': 'order-43' });
  t.not(other.json.id, a.json.id, 'another key is another task');
  await waitStatus(api, a.json.id, 'SUCCESS');
  await waitStatus(api, other.json.id, 'SUCCESS');
  const c = await call(`${api}/tasks`, 'POST', { tag: 'once' }, key);
  t.equal(c.json.id, a.json.id, 'still the same after it finished');
  t.equal(c.json.state, 'succeeded');
  t.equal(w.seen.filter((id) => id === a.json.id).length, 1, 'run once');
});

t.test('DELETE cancels; a finished task answers 409; an unknown one 404', async (t) => {
  const w = await startWorker(t);
  const { api } = await lbGateway(t, [w.url]);
  const busy = await call(`${api}/tasks`, 'POST', { hold: 'x' });
  const queued = await call(`${api}/tasks`, 'POST', {});
  const d = await call(`${api}/tasks/${queued.json.id}`, 'DELETE');
  t.equal(d.status, 200);
  t.equal(d.json.state, 'canceled');
  const again = await call(`${api}/tasks/${queued.json.id}`, 'DELETE');
  t.equal(again.status, 409);
  t.equal(again.json.error.code, 'GH_ERR_LOAD_BALANCER_TASK_FINISHED');
  const unknown = await call(`${api}/tasks/nope`);
  t.equal(unknown.status, 404);
  t.equal(unknown.json.error.code, 'GH_ERR_LOAD_BALANCER_TASK_NOT_FOUND');
  w.release('x');
  await waitStatus(api, busy.json.id, 'SUCCESS');
});

t.test('Retry-After follows the measured service time and the queue position', async (t) => {
  const w = await startWorker(t);
  const { api } = await lbGateway(t, [w.url]);
  await waitStatus(api, await processJob(api, { ms: 1500 }), 'SUCCESS');
  const blocker = await processJob(api, { hold: 'eta' });
  await waitStatus(api, blocker, 'STARTED');
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await call(`${api}/tasks`, 'POST', { ms: 10 })).json);
  t.ok(Number(ids[0].eta) > Date.now() + 1000, 'the first queued task has an eta a service time or more away');
  const third = await call(`${api}/tasks/${ids[2].id}`);
  t.ok(Number(third.headers['retry-after']) >= 4, `three tasks behind one running: ${third.headers['retry-after']} s`);
  w.release('eta');
});

t.test('two workers at maxConnectionsPerTarget 1 and 20 tasks: never two at once on a worker, each done once', async (t) => {
  const a = await startWorker(t);
  const b = await startWorker(t);
  const { api, admin: adminUrl } = await lbGateway(t, [a.url, b.url]);
  const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => processJob(api, { ms: 30, tag: String(i) })));
  for (const id of ids) await waitStatus(api, id, 'SUCCESS', 60000);
  t.equal(a.maxConcurrent, 1, 'worker a');
  t.equal(b.maxConcurrent, 1, 'worker b');
  const all = [...a.seen, ...b.seen].sort();
  t.same(all, [...ids].sort(), 'every task ran exactly once');
  t.ok(a.seen.length > 0 && b.seen.length > 0, `both workers took tasks (${a.seen.length} / ${b.seen.length})`);
  const list = await admin(adminUrl, 'GET', '/tasks?state=succeeded&limit=50');
  t.equal(list.json.tasks.length, 20);
});

t.test('a worker that is down is passed over: the task runs on the other, as its first attempt', async (t) => {
  const w = await startWorker(t);
  const dead = `http://127.0.0.1:${await deadPort()}`;
  const { api } = await lbGateway(t, [dead, w.url]);
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await call(`${api}/tasks`, 'POST', { tag: String(i) })).json.id);
  for (const id of ids) await waitStatus(api, id, 'SUCCESS');
  const views = await Promise.all(ids.map(async (id) => (await call(`${api}/tasks/${id}`)).json));
  t.same(
    views.map((v) => [v.attempts, v.worker]),
    ids.map(() => [1, `${w.url}/`]),
  );
});

t.test('the public face does not list tasks (ids are the capability); the admin API does', async (t) => {
  const w = await startWorker(t);
  const { api, admin: adminUrl } = await lbGateway(t, [w.url]);
  await waitStatus(api, await processJob(api, {}), 'SUCCESS');
  t.equal((await call(`${api}/tasks`)).status, 405);
  t.equal((await admin(adminUrl, 'GET', '/tasks')).json.tasks.length, 1);
});
