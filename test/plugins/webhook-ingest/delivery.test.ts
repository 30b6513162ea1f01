import { join } from 'node:path';
import t from 'tap';
import { SqliteStore } from '../../../core/store/sqlite';
import { deadPort } from '../../helpers/pacifica';
import { request } from '../../helpers/servers';
import { TOKEN, admin, eventually, moPost, post, recordingBackend, webhookGateway } from './harness';

const steps = (n: number, step: string) => Array<string>(n).fill(step);
/** Unsigned RockBLOCK-like posts (accepted with `verify.required: false`), fast retries, no circuit. */
const FAST = {
  verify: { required: false },
  retry: { schedule: steps(50, '100ms'), jitter: 0 },
  circuit: { failures: 1000, openMs: 100 },
};
const idsOf = (seen: { headers: Record<string, unknown> }[]) => new Set(seen.map((s) => s.headers['gatehouse-delivery-id'] as string));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const metricsOf = async (gw: { addresses: { admin?: { port: number } } }) =>
  (await request(`http://127.0.0.1:${gw.addresses.admin!.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).body;

t.test('backend down for a while, then up: every accepted message is delivered, each once', async (t) => {
  const port = await deadPort();
  const { url } = await webhookGateway(t, `http://127.0.0.1:${port}`, FAST);
  const ids = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const r = await post(url, moPost('300000000000001', i));
    t.equal(r.status, 200, `message ${i} accepted while the backend is down`);
    ids.add(r.headers['gatehouse-delivery-id'] as string);
  }
  await sleep(500); // a few failed attempts each
  const be = await recordingBackend(t, port);
  await eventually(() => idsOf(be.seen).size === 30, 15000);
  t.same(idsOf(be.seen), ids, 'exactly the accepted ids');
  await sleep(300);
  t.equal(be.seen.length, 30, 'none twice (no attempt had been answered before)');
  t.ok(
    be.seen.every((s) => Number(s.headers['gatehouse-attempt']) > 1),
    'each was attempted before (Gatehouse-Attempt > 1)',
  );
});

t.test('410 → dead at once; replayed from the dead letters once the backend takes it', async (t) => {
  const be = await recordingBackend(t);
  be.answer(() => ({ status: 410 }));
  const { url, admin: base, gw } = await webhookGateway(t, be.url, FAST);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await post(url, moPost('300000000000002', i))).headers['gatehouse-delivery-id'] as string);
  await eventually(async () => (await admin(base, 'GET', '/messages')).json.stats.dead === 3);
  t.equal(be.seen.length, 3, 'one attempt each');
  const list = await admin(base, 'GET', '/messages');
  t.same(new Set(list.json.messages.map((d: { id: string }) => d.id)), new Set(ids), 'the dead letters are listed');
  t.match(list.json.messages[0], { state: 'dead', attempts: 1, lastError: /answered 410 \(Gone\)/, endedAt: String });
  const shown = await admin(base, 'GET', `/messages/${ids[0]}`);
  t.match(shown.json, { state: 'dead', attempts: 1, lastError: /410/ });
  const metrics = await metricsOf(gw);
  t.match(metrics, /deliveries_total\{outcome="gone",instance="hook"\} 3/);
  t.match(metrics, /gatehouse_store_queue_items\{queue="webhook-ingest\/hook",state="dead"\} 3\n/, 'the dead letters in the queue gauge');

  be.answer(() => ({ status: 200 }));
  const one = await admin(base, 'POST', `/messages/${ids[0]}/replay`);
  t.same(one, { status: 200, json: { replayed: 1 } });
  await eventually(() => be.seen.length === 4);
  t.equal(be.seen[3].headers['gatehouse-delivery-id'], ids[0], 'the replayed one');
  t.equal(be.seen[3].headers['gatehouse-attempt'], '1', 'attempts start again');
  const all = await admin(base, 'POST', '/replay');
  t.same(all.json, { replayed: 2 });
  await eventually(() => be.seen.length === 6);
  t.same(idsOf(be.seen.slice(4)), new Set(ids.slice(1)));
  t.match(
    (await admin(base, 'POST', `/messages/${ids[0]}/replay`)).json,
    { error: { code: 'GH_ERR_WEBHOOK_INGEST_MESSAGE_NOT_FOUND' } },
    'a delivered message is no dead letter',
  );
  t.equal((await admin(base, 'GET', '/messages/nope')).status, 404);
  t.equal((await admin(base, 'GET', '/messages?state=acked')).status, 400, 'delivered messages are not listed');
});

t.test(
  'messages listed by state: waiting for a retry (delayed, with the next attempt and last error), open, none left once delivered',
  async (t) => {
    const be = await recordingBackend(t);
    be.answer(() => ({ status: 500 }));
    const slow = { ...FAST, retry: { schedule: ['1h'], jitter: 0 } };
    const { url, admin: base } = await webhookGateway(t, be.url, slow);
    const id = (await post(url, moPost('300000000000004', 1))).headers['gatehouse-delivery-id'] as string;
    await eventually(async () => (await admin(base, 'GET', '/messages?state=delayed')).json.messages.length === 1);
    const delayed = (await admin(base, 'GET', '/messages?state=delayed')).json;
    t.match(delayed, {
      state: 'delayed',
      stats: { delayed: 1 },
      messages: [{ id, state: 'delayed', attempts: 1, lastError: /500/, nextAttemptAt: String }],
    });
    t.ok(Date.parse(delayed.messages[0].nextAttemptAt) > Date.now() + 3_000_000, 'the next attempt is about an hour away');
    const cases: [string, string[]][] = [
      ['open', [id]],
      ['ready', []],
      ['leased', []],
      ['dead', []],
    ];
    for (const [state, want] of cases) {
      const got = (await admin(base, 'GET', `/messages?state=${state}`)).json.messages.map((m: { id: string }) => m.id);
      t.same(got, want, `state=${state}`);
    }
  },
);

t.test('purge: one dead letter, then all', async (t) => {
  const be = await recordingBackend(t);
  be.answer(() => ({ status: 410 }));
  const { url, admin: base } = await webhookGateway(t, be.url, FAST);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await post(url, moPost('300000000000003', i))).headers['gatehouse-delivery-id'] as string);
  await eventually(async () => (await admin(base, 'GET', '/messages')).json.stats.dead === 3);
  t.same((await admin(base, 'DELETE', `/messages/${ids[0]}`)).json, { purged: 1 });
  t.equal((await admin(base, 'GET', `/messages/${ids[0]}`)).status, 404);
  t.same((await admin(base, 'DELETE', '/messages')).json, { purged: 2 });
  t.equal((await admin(base, 'GET', '/messages')).json.stats.dead, 0);
});

t.test('orderBy: per device in order even when attempts fail; at most `concurrency` in flight', async (t) => {
  const be = await recordingBackend(t);
  let inflight = 0;
  let most = 0;
  let n = 0;
  be.answer(async () => {
    inflight += 1;
    most = Math.max(most, inflight);
    await sleep(20);
    inflight -= 1;
    n += 1;
    return { status: n % 3 === 0 ? 500 : 200 }; // every third attempt fails
  });
  const { url } = await webhookGateway(t, be.url, {
    ...FAST,
    retry: { schedule: steps(50, '30ms'), jitter: 0.5 },
    deliver: { orderBy: 'imei', concurrency: 2 },
  });
  const devices = ['300000000000010', '300000000000011', '300000000000012', '300000000000013'];
  for (let i = 0; i < 8; i++) for (const d of devices) t.equal((await post(url, moPost(d, i))).status, 200);
  await eventually(() => be.seen.length - Math.floor(be.seen.length / 3) >= 32 && idsOf(be.seen).size === 32, 20000);
  await sleep(200);
  t.ok(most <= 2, `at most 2 in flight (saw ${most})`);
  t.ok(most === 2, 'and the 2 were used');
  const delivered = new Map<string, number[]>();
  be.seen.forEach((s, i) => {
    if ((i + 1) % 3 === 0) return; // answered 500
    const f = new URLSearchParams(s.body);
    const list = delivered.get(f.get('imei')!) ?? [];
    list.push(Number(f.get('momsn')));
    delivered.set(f.get('imei')!, list);
  });
  for (const d of devices) t.same(delivered.get(d), [0, 1, 2, 3, 4, 5, 6, 7], `${d}: delivered in order, each once`);
});

t.test('circuit: a destination that keeps failing is paused and probed, not hammered', async (t) => {
  const be = await recordingBackend(t);
  be.answer(() => ({ status: 500 }));
  const { url, gw } = await webhookGateway(t, be.url, {
    ...FAST,
    retry: { schedule: steps(50, '10ms'), jitter: 0 },
    circuit: { failures: 3, openMs: 400 },
  });
  for (let i = 0; i < 10; i++) await post(url, moPost('300000000000020', i));
  await sleep(1000);
  const attempts = be.seen.length;
  t.ok(
    attempts >= 4 && attempts <= 10,
    `3 failures, then about one probe per 400 ms (saw ${attempts} attempts in 1 s; unpaused: hundreds)`,
  );
  t.match(await metricsOf(gw), /circuit_open\{instance="hook"\} 1/);
  be.answer(() => ({ status: 200 }));
  await eventually(() => idsOf(be.seen.slice(attempts)).size === 10, 5000);
  t.match(await metricsOf(gw), /circuit_open\{instance="hook"\} 0/, 'closed after a good probe');
});

t.test("429 with Retry-After: 1 waits a second, not the schedule's 100 ms", async (t) => {
  const be = await recordingBackend(t);
  be.answer((_r, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
  const { url } = await webhookGateway(t, be.url, FAST);
  await post(url, moPost('300000000000030', 1));
  await eventually(() => be.seen.length === 2, 5000);
  const gap = be.seen[1].at - be.seen[0].at;
  t.ok(gap >= 950, `the second attempt came after Retry-After: 1 (${gap} ms; the schedule says 100 ms)`);
  t.equal(be.seen[1].headers['gatehouse-attempt'], '2');
});

t.test('two gatehouses on one store: each message delivered once, never by both at the same time', async (t) => {
  const be = await recordingBackend(t);
  const inflight = new Map<string, number>();
  let overlaps = 0;
  be.answer(async (r) => {
    const id = r.headers['gatehouse-delivery-id'] as string;
    inflight.set(id, (inflight.get(id) ?? 0) + 1);
    if (inflight.get(id)! > 1) overlaps += 1;
    await sleep(10);
    inflight.set(id, inflight.get(id)! - 1);
    return { status: 200 };
  });
  const a = await webhookGateway(t, be.url, FAST);
  const b = await webhookGateway(t, be.url, FAST, '/rockblock/incoming', a.dir);
  const ids = new Set<string>();
  for (let i = 0; i < 20; i++) {
    ids.add((await post(a.url, moPost('300000000000060', i))).headers['gatehouse-delivery-id'] as string);
    ids.add((await post(b.url, moPost('300000000000061', i))).headers['gatehouse-delivery-id'] as string);
  }
  t.equal(
    (await post(b.url, moPost('300000000000060', 0))).headers['gatehouse-delivery-id'],
    [...ids][0],
    'a resend to the other one is a duplicate',
  );
  await eventually(() => idsOf(be.seen).size === 40, 15000);
  await sleep(300);
  t.equal(be.seen.length, 40, 'each once');
  t.equal(overlaps, 0, 'no message in flight twice');
  t.same(idsOf(be.seen), ids);
});

t.test('a malformed queue item (not one this plugin wrote) is dead-lettered with the reason, and delivery goes on', async (t) => {
  const be = await recordingBackend(t);
  const { url, dir, admin: base } = await webhookGateway(t, be.url, FAST);
  const other = new SqliteStore({ path: join(dir, 'gatehouse.db'), durability: 'strict' });
  await other.open();
  t.teardown(() => other.close());
  await other.queue.enqueue('webhook-ingest/hook', { nothing: 'here' }, { id: 'foreign' });
  t.equal((await post(url, moPost('300000000000070', 1))).status, 200);
  await eventually(async () => (await admin(base, 'GET', '/messages/foreign')).json.state === 'dead');
  t.match((await admin(base, 'GET', '/messages/foreign')).json, { lastError: /cannot be delivered/ });
  await eventually(() => be.seen.length === 1);
  t.equal(new URLSearchParams(be.seen[0].body).get('imei'), '300000000000070', 'the good one was delivered');
});
