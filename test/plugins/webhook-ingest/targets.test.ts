import t from 'tap';
import { deadPort } from '../../helpers/pacifica';
import { eventually, moPost, post, recordingBackend, webhookGateway, type Received } from './harness';

const steps = (n: number, step: string) => Array<string>(n).fill(step);
/** Unsigned RockBLOCK-like posts, fast retries, no circuit. */
const FAST = {
  verify: { required: false },
  retry: { schedule: steps(50, '100ms'), jitter: 0 },
  circuit: { failures: 1000, openMs: 100 },
};
/** Health checks every 100 ms, one verdict enough either way. */
const CHECKS = { path: '/health', intervalMs: 100, timeoutMs: 500, healthy: 1, unhealthy: 1 };
/** What a backend got of the deliveries (health checks left out). */
const deliveries = (seen: Received[]) => seen.filter((s) => s.url.startsWith('/rockblock'));
const idsOf = (seen: Received[]) => new Set(deliveries(seen).map((s) => s.headers['gatehouse-delivery-id'] as string));

async function postMany(t: Tap.Test, url: string, imei: string, n: number): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await post(url, moPost(imei, i));
    t.equal(r.status, 200, `message ${i} accepted`);
    ids.add(r.headers['gatehouse-delivery-id'] as string);
  }
  return ids;
}

t.test('deliveries to an upstream use its live, usable targets', async (t) => {
  await t.test('two targets: the deliveries spread over both, round robin', async (t) => {
    const a = await recordingBackend(t);
    const b = await recordingBackend(t);
    const { url } = await webhookGateway(t, { targets: [a.url, b.url] }, FAST);
    const ids = await postMany(t, url, '300000000000101', 20);
    await eventually(() => idsOf(a.seen).size + idsOf(b.seen).size === 20);
    t.same(new Set([...idsOf(a.seen), ...idsOf(b.seen)]), ids, 'every message delivered');
    t.same([deliveries(a.seen).length, deliveries(b.seen).length], [10, 10], 'half each');
  });

  await t.test('one target down, found out by health checks: every delivery goes to the other, first time', async (t) => {
    const a = await recordingBackend(t);
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const { url, gw } = await webhookGateway(t, { targets: [dead, a.url], healthCheck: CHECKS }, FAST);
    const pool = gw.upstreams.get('be')!;
    await eventually(() => pool.targets[0].healthy === false && pool.targets[1].healthy === true);
    const ids = await postMany(t, url, '300000000000102', 10);
    await eventually(() => idsOf(a.seen).size === 10);
    t.same(idsOf(a.seen), ids, 'all delivered to the live one');
    t.ok(
      deliveries(a.seen).every((s) => s.headers['gatehouse-attempt'] === '1'),
      'no attempt went to the dead one',
    );
  });

  await t.test('one target down, no health checks: a message whose attempt met it goes to the other on its next attempt', async (t) => {
    const a = await recordingBackend(t);
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const { url } = await webhookGateway(t, { targets: [dead, a.url] }, FAST);
    const ids = await postMany(t, url, '300000000000103', 10);
    await eventually(() => idsOf(a.seen).size === 10);
    t.same(idsOf(a.seen), ids, 'all delivered');
    t.ok(
      deliveries(a.seen).some((s) => s.headers['gatehouse-attempt'] === '2'),
      'some after an attempt on the dead one',
    );
  });

  await t.test('no target healthy (panic): all of them are used rather than none', async (t) => {
    const a = await recordingBackend(t);
    const b = await recordingBackend(t);
    for (const be of [a, b]) be.answer((r) => ({ status: r.url === '/health' ? 503 : 200 }));
    const { url, gw } = await webhookGateway(t, { targets: [a.url, b.url], healthCheck: CHECKS }, FAST);
    const pool = gw.upstreams.get('be')!;
    await eventually(() => pool.targets.every((x) => !x.healthy));
    const ids = await postMany(t, url, '300000000000104', 10);
    await eventually(() => idsOf(a.seen).size + idsOf(b.seen).size === 10);
    t.same(new Set([...idsOf(a.seen), ...idsOf(b.seen)]), ids, 'every message delivered');
    t.same([deliveries(a.seen).length, deliveries(b.seen).length], [5, 5], 'to both');
  });

  await t.test('the targets change while it runs: new attempts go to the new target', async (t) => {
    const a = await recordingBackend(t);
    const c = await recordingBackend(t);
    const { url, gw } = await webhookGateway(t, a.url, FAST);
    const first = await postMany(t, url, '300000000000105', 5);
    await eventually(() => idsOf(a.seen).size === 5);
    t.same(idsOf(a.seen), first, 'delivered to the first target');
    gw.upstreams.get('be')!.setTargets([c.url]);
    const second = await postMany(t, url, '300000000000106', 5);
    await eventually(() => idsOf(c.seen).size === 5);
    t.same(idsOf(c.seen), second, 'the later ones to the new target');
    t.equal(deliveries(a.seen).length, 5, 'none more to the removed one');
  });
});
