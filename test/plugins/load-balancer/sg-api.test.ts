import t from 'tap';
import { call, lbGateway, processJob, startWorker, status, until, waitStatus } from './harness';

t.setTimeout(120000);

t.test("the SG flow end to end: PENDING → PROGRESS 42 → SUCCESS with the worker's JSON", async (t) => {
  const w = await startWorker(t);
  const { api } = await lbGateway(t, [w.url]);
  // One worker at concurrency 1, held: the second task stays PENDING behind the first.
  const first = await processJob(api, { progress: 42, hold: 'a', tag: 'first' });
  const second = await processJob(api, { tag: 'second' });
  t.match(first, /^[0-9a-f-]{36}$/, 'a uuid');
  const progress = await waitStatus(api, first, 'PROGRESS');
  t.same(progress, { uuid: first, status: 'PROGRESS', result: { current: 42, total: 100 } });
  t.same(await status(api, second), { uuid: second, status: 'PENDING', result: null });
  w.release('a');
  const done = await waitStatus(api, first, 'SUCCESS');
  t.same(done.result, { done: first, tag: 'first', port: Number(new URL(w.url).port) });
  t.equal((await waitStatus(api, second, 'SUCCESS')).result.tag, 'second');
  t.equal(w.maxConcurrent, 1, 'the worker never ran two at once');
});

t.test('annotate takes a form and hands it to the worker with its content type', async (t) => {
  const seen: string[] = [];
  const { startBackend } = await import('../../helpers/servers');
  const be = await startBackend(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(`${req.headers['content-type']} ${Buffer.concat(chunks).toString()}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  const { api } = await lbGateway(t, [be.url]);
  const r = await call(`${api}/annotate`, 'POST', 'doc=a%20b&lang=fr', { 'content-type': 'application/x-www-form-urlencoded' });
  t.equal(r.status, 200);
  await waitStatus(api, r.json.uuid, 'SUCCESS');
  t.same(seen, ['application/x-www-form-urlencoded doc=a%20b&lang=fr']);
  const notForm = await call(`${api}/annotate`, 'POST', { a: 1 });
  t.equal(notForm.status, 415, 'annotate refuses what is not a form');
});

const failures = [
  {
    name: 'a worker error with {code, message}',
    job: { fail: { status: 500, body: { code: 'E_BAD_INPUT', message: 'bad input' } } },
    result: { code: 'E_BAD_INPUT', message: 'bad input' },
  },
  { name: 'a plain error status', job: { fail: { status: 503 } }, result: { code: 503, message: '{}' } },
  { name: 'a dropped connection', job: { drop: true }, result: (r: any) => r.code === 'WORKER_DISCONNECTED' },
];
for (const c of failures)
  t.test(`FAILURE is HTTP 200 with {code, message}: ${c.name}`, async (t) => {
    const w = await startWorker(t);
    const { api } = await lbGateway(t, [w.url]);
    const uuid = await processJob(api, c.job);
    const s = await waitStatus(api, uuid, 'FAILURE');
    const r = await call(`${api}/status?uuid=${uuid}`);
    t.equal(r.status, 200);
    if (typeof c.result === 'function') t.ok(c.result(s.result), JSON.stringify(s.result));
    else t.same(s.result, c.result);
  });

t.test('cancel of a queued task: REVOKED, and the worker never sees it', async (t) => {
  const w = await startWorker(t);
  const { api } = await lbGateway(t, [w.url]);
  const busy = await processJob(api, { hold: 'busy' });
  await until(async () => w.seen.includes(busy), 10000, 20);
  const queued = await processJob(api, { tag: 'never' });
  const c = await call(`${api}/cancel?uuid=${queued}`);
  t.equal(c.status, 200);
  t.same(c.json, { uuid: queued, status: 'REVOKED', result: { code: 'REVOKED', message: 'The task was canceled' } });
  w.release('busy');
  await waitStatus(api, busy, 'SUCCESS');
  const after = await processJob(api, {});
  await waitStatus(api, after, 'SUCCESS');
  t.notOk(w.seen.includes(queued), 'the canceled task was never dispatched');
  t.equal((await status(api, queued)).status, 'REVOKED');
});

t.test('cancel of a running task: REVOKED, and the worker is told (its request is aborted)', async (t) => {
  const w = await startWorker(t);
  const { api } = await lbGateway(t, [w.url], { heartbeatMs: 600 });
  const uuid = await processJob(api, { progress: 10, hold: 'forever' });
  await waitStatus(api, uuid, 'PROGRESS');
  const c = await call(`${api}/cancel?uuid=${uuid}`);
  t.equal(c.json.status, 'REVOKED');
  await until(async () => w.aborted.includes(uuid), 10000, 20);
  t.pass('the worker saw its request aborted');
  // The worker may still be busy with it (a plain service does not stop): its slot is kept until it lapses.
  w.release('forever');
  const next = await processJob(api, { tag: 'next' });
  t.equal((await waitStatus(api, next, 'SUCCESS')).result.tag, 'next', 'the slot comes back after heartbeatMs');
  t.equal((await status(api, uuid)).status, 'REVOKED', 'still REVOKED after the worker finished');
});

t.test('a result past resultTtlMs is EXPIRED, and a tombstone says so', async (t) => {
  const w = await startWorker(t);
  const { api } = await lbGateway(t, [w.url], { resultTtlMs: 400 });
  const uuid = await processJob(api, {});
  await waitStatus(api, uuid, 'SUCCESS');
  const s = await waitStatus(api, uuid, 'EXPIRED');
  t.same(s, { uuid, status: 'EXPIRED', result: null });
});

const badRequests = [
  { name: 'status without uuid', path: '/annotator/status', code: 'GH_ERR_LOAD_BALANCER_MISSING_UUID' },
  { name: 'status with an empty uuid', path: '/annotator/status?uuid=', code: 'GH_ERR_LOAD_BALANCER_MISSING_UUID' },
  { name: 'cancel without uuid', path: '/annotator/cancel', code: 'GH_ERR_LOAD_BALANCER_MISSING_UUID' },
  {
    name: 'status of an unknown uuid',
    path: '/annotator/status?uuid=00000000-0000-0000-0000-000000000000',
    code: 'GH_ERR_LOAD_BALANCER_UNKNOWN_UUID',
  },
  { name: 'cancel of an unknown uuid', path: '/annotator/cancel?uuid=nope', code: 'GH_ERR_LOAD_BALANCER_UNKNOWN_UUID' },
  { name: 'an unknown service', path: '/translator/status?uuid=x', code: 'GH_ERR_LOAD_BALANCER_UNKNOWN_SERVICE' },
];
t.test("400 with the original's {status, description} plus the code", async (t) => {
  const w = await startWorker(t);
  const { url } = await lbGateway(t, [w.url]);
  for (const c of badRequests)
    await t.test(c.name, async (t) => {
      const r = await call(`${url}${c.path}`);
      t.equal(r.status, 400);
      t.same(Object.keys(r.json), ['status', 'description', 'code']);
      t.equal(r.json.status, 400);
      t.equal(r.json.code, c.code);
      t.type(r.json.description, 'string');
    });
});
