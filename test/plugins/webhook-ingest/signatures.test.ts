import { createHmac } from 'node:crypto';
import t from 'tap';
import { PRESET_VERIFIERS } from '../../../plugins/webhook-ingest/presets';
import type { PresetSettings } from '../../../plugins/webhook-ingest/presets/types';
import type { PresetName } from '../../../plugins/webhook-ingest/schema';
import { settings } from './settings';

const NOW = 1_700_000_000_000;
const nowS = NOW / 1000;
const body = Buffer.from('{"id":"evt_1","event_id":"Ev1","type":"ping"}');
const hex = (alg: string, key: string | Buffer, data: string | Buffer) => createHmac(alg, key).update(data).digest('hex');
const b64 = (alg: string, key: string | Buffer, data: string | Buffer) => createHmac(alg, key).update(data).digest('base64');

// Standard Webhooks: the secret is whsec_<base64 of the key bytes>.
const SW_KEY = Buffer.from('standard-webhooks-key-bytes-0001');
const SW_OLD = Buffer.from('standard-webhooks-old-key-bytes1');
const whsec = (k: Buffer) => `whsec_${k.toString('base64')}`;
const sw = (key: Buffer, ts: number, id = 'msg_1', sigs?: string) => ({
  'webhook-id': id,
  'webhook-timestamp': String(ts),
  'webhook-signature': sigs ?? `v1,${b64('sha256', key, Buffer.concat([Buffer.from(`${id}.${ts}.`), body]))}`,
});
const stripeHeader = (secret: string, ts: number) => ({ 'stripe-signature': `t=${ts},v1=${hex('sha256', secret, `${ts}.${body}`)},v0=00` });
const slackHeaders = (secret: string, ts: number) => ({
  'content-type': 'application/json',
  'x-slack-request-timestamp': String(ts),
  'x-slack-signature': `v0=${hex('sha256', secret, `v0:${ts}:${body}`)}`,
});

interface Case {
  desc: string;
  preset: PresetName;
  over?: Partial<PresetSettings>;
  headers: Record<string, string>;
  /** The dedupe key when accepted, null for none; undefined: refused. */
  dedupe?: string | null;
  status?: number;
  signed?: boolean;
}

const cases: Case[] = [
  // standard-webhooks
  {
    desc: 'valid',
    preset: 'standard-webhooks',
    over: { secrets: [whsec(SW_KEY)] },
    headers: sw(SW_KEY, nowS),
    dedupe: 'standard-webhooks\u0000msg_1',
  },
  { desc: 'wrong secret', preset: 'standard-webhooks', over: { secrets: [whsec(SW_OLD)] }, headers: sw(SW_KEY, nowS), status: 401 },
  {
    desc: 'stale timestamp',
    preset: 'standard-webhooks',
    over: { secrets: [whsec(SW_KEY)] },
    headers: sw(SW_KEY, nowS - 301),
    status: 401,
  },
  {
    desc: 'future timestamp',
    preset: 'standard-webhooks',
    over: { secrets: [whsec(SW_KEY)] },
    headers: sw(SW_KEY, nowS + 301),
    status: 401,
  },
  {
    desc: 'rotated secret: signed with the old, both configured',
    preset: 'standard-webhooks',
    over: { secrets: [whsec(SW_KEY), whsec(SW_OLD)] },
    headers: sw(SW_OLD, nowS),
    dedupe: 'standard-webhooks\u0000msg_1',
  },
  {
    desc: 'several signatures, one valid',
    preset: 'standard-webhooks',
    over: { secrets: [whsec(SW_KEY)] },
    headers: sw(SW_KEY, nowS, 'msg_1', `v1,AAAA v1,${sw(SW_KEY, nowS)['webhook-signature'].slice(3)}`),
    dedupe: 'standard-webhooks\u0000msg_1',
  },
  {
    desc: 'id changed after signing',
    preset: 'standard-webhooks',
    over: { secrets: [whsec(SW_KEY)] },
    headers: { ...sw(SW_KEY, nowS), 'webhook-id': 'msg_2' },
    status: 401,
  },
  { desc: 'no headers (required)', preset: 'standard-webhooks', over: { secrets: [whsec(SW_KEY)] }, headers: {}, status: 401 },
  {
    desc: 'a signature without its id',
    preset: 'standard-webhooks',
    over: { secrets: [whsec(SW_KEY)], required: false },
    headers: { 'webhook-signature': 'v1,x' },
    status: 401,
  },
  // github
  {
    desc: 'valid',
    preset: 'github',
    over: { secrets: ['gh-secret'] },
    headers: { 'x-hub-signature-256': `sha256=${hex('sha256', 'gh-secret', body)}`, 'x-github-delivery': 'd-1' },
    dedupe: 'github\u0000d-1',
  },
  {
    desc: 'wrong secret',
    preset: 'github',
    over: { secrets: ['gh-secret'] },
    headers: { 'x-hub-signature-256': `sha256=${hex('sha256', 'other', body)}` },
    status: 401,
  },
  {
    desc: 'rotated secret',
    preset: 'github',
    over: { secrets: ['new', 'gh-secret'] },
    headers: { 'x-hub-signature-256': `sha256=${hex('sha256', 'gh-secret', body)}` },
    dedupe: null,
  },
  {
    desc: 'the sha1 header only',
    preset: 'github',
    over: { secrets: ['gh-secret'] },
    headers: { 'x-hub-signature': `sha1=${hex('sha1', 'gh-secret', body)}` },
    status: 401,
  },
  { desc: 'not hex', preset: 'github', over: { secrets: ['gh-secret'] }, headers: { 'x-hub-signature-256': 'sha256=zz' }, status: 401 },
  {
    desc: 'unsigned, required: false',
    preset: 'github',
    over: { secrets: ['gh-secret'], required: false },
    headers: {},
    dedupe: null,
    signed: false,
  },
  // stripe
  {
    desc: 'valid',
    preset: 'stripe',
    over: { secrets: ['whsec_stripe'] },
    headers: stripeHeader('whsec_stripe', nowS),
    dedupe: 'stripe\u0000evt_1',
  },
  { desc: 'wrong secret', preset: 'stripe', over: { secrets: ['whsec_stripe'] }, headers: stripeHeader('whsec_other', nowS), status: 401 },
  {
    desc: 'stale timestamp',
    preset: 'stripe',
    over: { secrets: ['whsec_stripe'] },
    headers: stripeHeader('whsec_stripe', nowS - 400),
    status: 401,
  },
  {
    desc: 'rotated secret',
    preset: 'stripe',
    over: { secrets: ['whsec_new', 'whsec_stripe'] },
    headers: stripeHeader('whsec_stripe', nowS),
    dedupe: 'stripe\u0000evt_1',
  },
  { desc: 'no v1', preset: 'stripe', over: { secrets: ['whsec_stripe'] }, headers: { 'stripe-signature': `t=${nowS},v0=00` }, status: 401 },
  // slack
  {
    desc: 'valid',
    preset: 'slack',
    over: { secrets: ['slack-secret'] },
    headers: slackHeaders('slack-secret', nowS),
    dedupe: 'slack\u0000Ev1',
  },
  { desc: 'wrong secret', preset: 'slack', over: { secrets: ['slack-secret'] }, headers: slackHeaders('nope', nowS), status: 401 },
  {
    desc: 'stale timestamp',
    preset: 'slack',
    over: { secrets: ['slack-secret'] },
    headers: slackHeaders('slack-secret', nowS - 600),
    status: 401,
  },
  {
    desc: 'rotated secret',
    preset: 'slack',
    over: { secrets: ['a', 'slack-secret'] },
    headers: slackHeaders('slack-secret', nowS),
    dedupe: 'slack\u0000Ev1',
  },
  // hmac
  {
    desc: 'valid (sha256, hex, prefix)',
    preset: 'hmac',
    over: { secrets: ['k'], header: 'x-signature', prefix: 'sha256=' },
    headers: { 'x-signature': `sha256=${hex('sha256', 'k', body)}` },
    dedupe: null,
  },
  {
    desc: 'valid (sha512, base64)',
    preset: 'hmac',
    over: { secrets: ['k'], header: 'x-sig', algorithm: 'sha512', encoding: 'base64' },
    headers: { 'x-sig': b64('sha512', 'k', body) },
    dedupe: null,
  },
  {
    desc: 'wrong secret',
    preset: 'hmac',
    over: { secrets: ['k'], header: 'x-sig' },
    headers: { 'x-sig': hex('sha256', 'j', body) },
    status: 401,
  },
  {
    desc: 'rotated secret',
    preset: 'hmac',
    over: { secrets: ['j', 'k'], header: 'x-sig' },
    headers: { 'x-sig': hex('sha256', 'k', body) },
    dedupe: null,
  },
  {
    desc: 'missing prefix',
    preset: 'hmac',
    over: { secrets: ['k'], header: 'x-sig', prefix: 'sha256=' },
    headers: { 'x-sig': hex('sha256', 'k', body) },
    status: 401,
  },
  { desc: 'no header (required)', preset: 'hmac', over: { secrets: ['k'], header: 'x-sig' }, headers: {}, status: 401 },
  // none
  { desc: 'anything', preset: 'none', headers: {}, dedupe: null, signed: false },
];

for (const c of cases) {
  t.test(`${c.preset}: ${c.desc}`, async (t) => {
    const verifier = PRESET_VERIFIERS[c.preset](settings(c.over));
    const got = await Promise.resolve()
      .then(() => verifier.verify({ raw: body, headers: c.headers, clientIp: '127.0.0.1', now: NOW }))
      .then(
        (v) => v,
        (e: Error & { status: number; code: string }) => e,
      );
    if (c.status !== undefined) {
      t.ok(got instanceof Error, 'refused');
      t.equal((got as { status: number }).status, c.status);
      t.equal((got as { code: string }).code, 'GH_ERR_WEBHOOK_INGEST_UNVERIFIED');
    } else {
      t.notOk(got instanceof Error, 'accepted', { got });
      const v = got as { signed: boolean; dedupe?: string };
      t.equal(v.signed, c.signed ?? true);
      t.equal(v.dedupe ?? null, c.dedupe);
    }
  });
}

t.test('a signature header sent twice is refused as ambiguous', async (t) => {
  const v = PRESET_VERIFIERS.github(settings({ secrets: ['s'] }));
  const sig = `sha256=${hex('sha256', 's', body)}`;
  let thrown: unknown;
  try {
    v.verify({ raw: body, headers: { 'x-hub-signature-256': [sig, sig] as unknown as string }, clientIp: '', now: NOW });
  } catch (err) {
    thrown = err;
  }
  t.match(thrown, { status: 401, message: /more than once/ });
});
