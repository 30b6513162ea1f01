import t from 'tap';
import { runWorker } from '../../../app';
import { call, lbGateway, processJob, status, until, waitStatus, WORKER_TOKEN } from './harness';

t.setTimeout(120000);

const PULL = { dispatch: 'pull', workerToken: WORKER_TOKEN, claimWaitMs: 3000 };
const AUTH = { authorization: `Bearer ${WORKER_TOKEN}` };
const claim = (api: string, waitMs = 0, worker = 'w1') =>
  call(`${api}/_worker/claim?waitMs=${waitMs}&worker=${worker}`, 'POST', undefined, AUTH);

t.test('pull: claim, progress 42, result; fail is FAILURE; a wrong token is refused', async (t) => {
  const { api, url } = await lbGateway(t, [], PULL);
  t.equal((await claim(api)).status, 204, 'nothing to claim');
  const refused = await call(`${api}/_worker/claim`, 'POST', undefined, { authorization: 'Bearer wrong-token-wrong-token' });
  t.equal(refused.status, 401);
  t.equal(refused.json.error.code, 'GH_ERR_LOAD_BALANCER_WORKER_UNAUTHORIZED');
  const uuid = await processJob(api, { tag: 'pulled' });
  const c = await claim(api);
  t.equal(c.status, 200);
  t.match(c.json, { id: uuid, attempts: 1, kind: 'process', contentType: 'application/json', heartbeatMs: 30000 });
  t.same(JSON.parse(Buffer.from(c.json.body, 'base64').toString()), { tag: 'pulled' });
  t.equal((await status(api, uuid)).status, 'STARTED');
  const p = await call(`${url}${c.json.progressUrl}`, 'POST', { progress: 42, message: 'half way' }, AUTH);
  t.same(p.json, { state: 'running', continue: true });
  t.same(await status(api, uuid), { uuid, status: 'PROGRESS', result: { current: 42, total: 100 } });
  const noToken = await call(`${url}${c.json.resultUrl}`, 'POST', { answer: 1 });
  t.equal(noToken.status, 401, 'result needs the worker token too');
  const r = await call(`${url}${c.json.resultUrl}`, 'POST', { answer: 1 }, AUTH);
  t.same(r.json, { state: 'succeeded', continue: false });
  t.same(await status(api, uuid), { uuid, status: 'SUCCESS', result: { answer: 1 } });

  const bad = await processJob(api, {});
  const c2 = await claim(api);
  await call(`${url}${c2.json.failUrl}`, 'POST', { code: 'E_MODEL', message: 'no model for fr' }, AUTH);
  t.same((await status(api, bad)).result, { code: 'E_MODEL', message: 'no model for fr' });
});

t.test('pull: a waiting claim gets a task submitted meanwhile at once', async (t) => {
  const { api } = await lbGateway(t, [], PULL);
  const waiting = claim(api, 3000);
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  const uuid = await processJob(api, {});
  const c = await waiting;
  t.equal(c.json.id, uuid);
  t.ok(Date.now() - started < 1500, `handed out ${Date.now() - started} ms after the submit`);
});

t.test('pull: cancel of a running task: the progress answer says canceled', async (t) => {
  const { api, url } = await lbGateway(t, [], PULL);
  const uuid = await processJob(api, {});
  const c = await claim(api);
  await call(`${api}/cancel?uuid=${uuid}`);
  const p = await call(`${url}${c.json.progressUrl}`, 'POST', { progress: 50 }, AUTH);
  t.same(p.json, { state: 'canceled', continue: false });
  const late = await call(`${url}${c.json.resultUrl}`, 'POST', { late: true }, AUTH);
  t.same(late.json, { state: 'canceled', continue: false }, 'a late result is not taken');
  t.equal((await status(api, uuid)).status, 'REVOKED');
});

t.test("heartbeat: a silent worker's task is requeued after heartbeatMs, then FAILURE past maxAttempts", async (t) => {
  const { api, url } = await lbGateway(t, [], { ...PULL, heartbeatMs: 400, maxAttempts: 2 });
  const uuid = await processJob(api, {});
  const first = await claim(api, 0, 'silent-1');
  t.equal(first.json.attempts, 1);
  // Silent: no progress. Within the heartbeat nobody else gets it…
  t.equal((await claim(api, 0, 'other')).status, 204, 'not handed out while the heartbeat is fresh');
  // …after it, the next claim does.
  const second = await claim(api, 3000, 'silent-2');
  t.equal(second.json.id, uuid);
  t.equal(second.json.attempts, 2, 'the second attempt');
  const stale = await call(`${url}${first.json.progressUrl}`, 'POST', { progress: 90 }, AUTH);
  t.same(stale.json, { state: 'running', continue: false }, 'the first worker is told to stop');
  // Silent again, with the attempts used up: the next claim finds it abandoned and fails it.
  const third = await claim(api, 1500, 'silent-3');
  t.equal(third.status, 204, 'not handed out a third time');
  const s = await waitStatus(api, uuid, 'FAILURE');
  t.equal(s.result.code, 'ATTEMPTS_EXHAUSTED');
});

t.test('timeout: the sweep fails a pulled task past taskTimeoutMs without a worker call; a late result is refused', async (t) => {
  const { api, url } = await lbGateway(t, [], { ...PULL, taskTimeoutMs: 600, heartbeatMs: 550 });
  const uuid = await processJob(api, {});
  const c = await claim(api);
  const startedAt = Date.now();
  // Two heartbeats keep the lease live past the timeout (until ~1050 ms), then the worker says nothing:
  // no claim comes either, so only the sweep can fail it.
  for (const at of [150, 500]) {
    await new Promise((r) => setTimeout(r, at - (Date.now() - startedAt)));
    t.same((await call(`${url}${c.json.progressUrl}`, 'POST', { progress: 10 }, AUTH)).json, { state: 'running', continue: true });
  }
  const s = await waitStatus(api, uuid, 'FAILURE', 5000);
  t.equal(s.result.code, 'TIMEOUT');
  t.ok(Date.now() - startedAt >= 600, `failed at ${Date.now() - startedAt} ms, past taskTimeoutMs`);
  const cases = [
    { call: 'result', body: { late: true } },
    { call: 'fail', body: { code: 'E_LATE', message: 'too late' } },
  ];
  for (const k of cases) {
    const r = await call(`${url}${c.json[`${k.call}Url`]}`, 'POST', k.body, AUTH);
    t.equal(r.status, 409, `a late ${k.call} is refused`);
    t.equal(r.json.error.code, 'GH_ERR_LOAD_BALANCER_TASK_TIMED_OUT');
  }
  const p = await call(`${url}${c.json.progressUrl}`, 'POST', { progress: 90 }, AUTH);
  t.same(p.json, { state: 'failed', continue: false }, 'a late progress report is told to stop');
  t.equal((await status(api, uuid)).result.code, 'TIMEOUT', 'the failure stands');
});

t.test('timeout: runWorker keeping its heartbeat is stopped at taskTimeoutMs, and told its result was refused', async (t) => {
  const { api } = await lbGateway(t, [], { ...PULL, taskTimeoutMs: 700, heartbeatMs: 300 });
  const errors: Error[] = [];
  let abortedAfter = -1;
  const worker = runWorker({
    url: api,
    token: WORKER_TOKEN,
    waitMs: 500,
    onError: (e) => errors.push(e),
    async handler(_task, ctx) {
      const at = Date.now();
      await ctx.progress(5);
      // Works until told to stop (its heartbeat goes on meanwhile), then answers all the same.
      await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
      abortedAfter = Date.now() - at;
      return { late: true };
    },
  });
  t.teardown(() => worker.stop());
  const uuid = await processJob(api, {});
  const s = await waitStatus(api, uuid, 'FAILURE', 5000);
  t.equal(s.result.code, 'TIMEOUT');
  await until(async () => errors.length > 0, 3000);
  t.ok(abortedAfter >= 600 && abortedAfter < 2000, `the handler was aborted ${abortedAfter} ms in`);
  t.match(errors[0].message, /refused its outcome \(409 GH_ERR_LOAD_BALANCER_TASK_TIMED_OUT\)/);
  t.equal((await status(api, uuid)).result.code, 'TIMEOUT', 'the late result was not taken');
});
