import t from 'tap';
import { admin, call, lbGateway, processJob, startWorker, TOKEN, until, waitStatus } from './harness';

t.setTimeout(120000);

/** A task long enough to reload or stop the gateway while a worker runs it. */
const LONG = 1500;

t.test('a reload lets a running pushed task finish: the worker sees it once, SUCCESS with its result', async (t) => {
  const w = await startWorker(t);
  const { api, admin: lb, adminUrl } = await lbGateway(t, [w.url]);
  const uuid = await processJob(api, { ms: LONG, tag: 'long' });
  // One worker at limit 1: this one waits for the first task's slot, across the reload.
  const next = await processJob(api, { tag: 'next' });
  // On the worker (STARTED comes a moment before the POST is sent).
  await until(async () => w.seen.includes(uuid));
  const at = Date.now();
  const reload = await call(`${adminUrl}/reload`, 'POST', undefined, { authorization: `Bearer ${TOKEN}` });
  t.equal(reload.status, 200, 'the reload succeeds');
  t.ok(Date.now() - at < LONG / 2, `the reload does not wait for the task (${Date.now() - at} ms)`);
  t.equal((await call(`${api}/status?uuid=${uuid}`)).json.status, 'STARTED', 'still running after the reload');
  const done = await waitStatus(api, uuid, 'SUCCESS');
  t.same(done.result, { done: uuid, tag: 'long', port: Number(new URL(w.url).port) }, 'the result of the one run');
  const finishedAt = Date.now();
  t.equal((await admin(lb, 'GET', `/tasks/${uuid}`)).json.attempts, 1, 'one attempt');
  // The retired instance releases the slot as its worker answers: the new one posts the next task at once.
  t.equal((await waitStatus(api, next, 'SUCCESS', 5000)).result.tag, 'next');
  t.ok(Date.now() - finishedAt < 3000, `the next task ran ${Date.now() - finishedAt} ms after (not after the slot's heartbeatMs)`);
  t.same(
    w.seen.filter((id) => id === uuid),
    [uuid],
    'the worker saw the task exactly once',
  );
  t.same(w.aborted, [], 'no POST was cut');
  t.equal(w.maxConcurrent, 1, 'the limit held across the two instances');
});

t.test('a shutdown still hands a running pushed task back: it runs again after the restart, counted as an attempt', async (t) => {
  const w = await startWorker(t);
  // A short heartbeat: the cut POST's slot lapses after it (the worker may be at it still), then the restart posts again.
  const opts = { heartbeatMs: 500 };
  const first = await lbGateway(t, [w.url], opts);
  const uuid = await processJob(first.api, { ms: LONG, tag: 'again' });
  await until(async () => w.seen.includes(uuid));
  const at = Date.now();
  await first.gw.close(100);
  t.ok(Date.now() - at < LONG, `the close did not wait for the task (${Date.now() - at} ms)`);
  await new Promise((r) => setTimeout(r, 50));
  t.same(w.aborted, [uuid], "the worker's POST was cut");
  const second = await lbGateway(t, [w.url], opts, {}, first.dir);
  t.equal((await call(`${second.api}/status?uuid=${uuid}`)).json.status !== 'FAILURE', true, 'not failed by the stop');
  const done = await waitStatus(second.api, uuid, 'SUCCESS');
  t.equal(done.result.tag, 'again');
  t.equal((await admin(second.admin, 'GET', `/tasks/${uuid}`)).json.attempts, 2, 'the stopped run counts as an attempt');
  t.same(
    w.seen.filter((id) => id === uuid),
    [uuid, uuid],
    'the worker ran it again',
  );
});
