import t from 'tap';
import { expectError } from '../../helpers/errors';
import { request } from '../../helpers/servers';
import fixture from './fixtures/mo-2023-09-05.json';
import { FORM, ROCKBLOCK_BODY, TOKEN, admin, eventually, post, recordingBackend, webhookGateway } from './harness';

t.test('the captured RockBLOCK delivery: 200 OK once durable, delivered once with its ids, a resend stored once', async (t) => {
  const be = await recordingBackend(t);
  const { url, gw, admin: base } = await webhookGateway(t, be.url, { deliver: { passHeaders: ['user-agent'] } });
  const first = await post(url, ROCKBLOCK_BODY, { ...FORM, 'user-agent': 'Rock7PushApi' });
  t.equal(first.status, 200);
  t.equal(first.body, 'OK');
  t.match(first.headers['content-type'], /^text\/plain/);
  const id = first.headers['gatehouse-delivery-id'] as string;
  t.match(id, /^[0-9a-f]{64}$/, 'a stable delivery id');
  const again = await post(url, ROCKBLOCK_BODY, { ...FORM, 'user-agent': 'Rock7PushApi' });
  t.equal(again.status, 200, 'a resend gets the same answer');
  t.equal(again.body, 'OK');
  t.equal(again.headers['gatehouse-delivery-id'], id, 'and the same id');
  await eventually(() => be.seen.length >= 1);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(be.seen.length, 1, 'delivered once');
  const got = be.seen[0];
  t.equal(got.url, '/rockblock/incoming', "the request's path by default");
  t.equal(got.body, ROCKBLOCK_BODY, 'the original body');
  t.equal(got.headers['content-type'], FORM['content-type'], 'its content type');
  t.equal(got.headers['user-agent'], 'Rock7PushApi', 'a pass header');
  t.equal(got.headers['gatehouse-delivery-id'], id);
  t.equal(got.headers['gatehouse-attempt'], '1');
  t.ok(
    Math.abs(Date.parse(got.headers['gatehouse-received-at'] as string) - Date.now()) < 10000,
    'Gatehouse-Received-At is a recent ISO time',
  );
  const shown = await admin(base, 'GET', `/messages/${id}`);
  t.equal(shown.status, 200);
  t.match(shown.json, { id, state: 'acked', attempts: 1, signed: true, body: ROCKBLOCK_BODY, result: { status: 200 } });
  const metrics = await request(`http://127.0.0.1:${gw.addresses.admin!.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  t.match(metrics.body, /gatehouse_webhook_ingest_received_total\{outcome="accepted",instance="hook"\} 1/);
  t.match(metrics.body, /gatehouse_webhook_ingest_received_total\{outcome="duplicate",instance="hook"\} 1/);
  t.match(metrics.body, /gatehouse_webhook_ingest_deliveries_total\{outcome="delivered",instance="hook"\} 1/);
  t.match(metrics.body, /gatehouse_webhook_ingest_attempt_duration_seconds_count\{class="2xx",instance="hook"\} 1/);
});

t.test('refusals: nothing stored, nothing delivered', async (t) => {
  const be = await recordingBackend(t);
  const { url, gw } = await webhookGateway(t, be.url, { limit: 4096 });
  const { JWT: _jwt, ...unsigned } = fixture.fields;
  const cases: { desc: string; method?: string; body: string; headers?: Record<string, string>; status: number; code: string }[] = [
    { desc: 'an empty body', body: '', status: 400, code: 'GH_ERR_WEBHOOK_INGEST_INVALID' },
    { desc: 'a body over the limit', body: 'x'.repeat(5000), status: 413, code: 'GH_ERR_BODY_TOO_LARGE' },
    {
      desc: 'an altered field',
      body: ROCKBLOCK_BODY.replace('momsn=66', 'momsn=67'),
      status: 401,
      code: 'GH_ERR_WEBHOOK_INGEST_UNVERIFIED',
    },
    { desc: 'no JWT', body: new URLSearchParams(unsigned).toString(), status: 401, code: 'GH_ERR_WEBHOOK_INGEST_UNVERIFIED' },
    {
      desc: 'unparseable JSON',
      body: '{"imei": 3',
      headers: { 'content-type': 'application/json' },
      status: 400,
      code: 'GH_ERR_WEBHOOK_INGEST_INVALID',
    },
    { desc: 'a GET', method: 'GET', body: '', status: 405, code: 'GH_ERR_METHOD_NOT_ALLOWED' },
  ];
  for (const c of cases) {
    t.test(c.desc, async (t) => {
      const r = await request(url, { method: c.method ?? 'POST', headers: c.headers ?? FORM, body: c.body });
      expectError(t, r, c.code, c.status);
    });
  }
  await new Promise((r) => setTimeout(r, 200));
  t.equal(be.seen.length, 0, 'nothing was delivered');
  const metrics = await request(`http://127.0.0.1:${gw.addresses.admin!.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  t.match(metrics.body, /received_total\{outcome="invalid",instance="hook"\} 2/);
  t.match(metrics.body, /received_total\{outcome="unverified",instance="hook"\} 2/);
  t.match(metrics.body, /received_total\{outcome="too_large",instance="hook"\} 1/);
});
