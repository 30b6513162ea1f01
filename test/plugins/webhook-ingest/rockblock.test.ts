import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SignJWT, base64url } from 'jose';
import t from 'tap';
import { rockblock } from '../../../plugins/webhook-ingest/presets/rockblock';
import { ROCKBLOCK_PUBLIC_KEY } from '../../../plugins/webhook-ingest/rockblock-key';
import fixture from './fixtures/mo-2023-09-05.json';
import { settings } from './settings';

const SHIPPED = createPublicKey(ROCKBLOCK_PUBLIC_KEY);
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };
const fields: Record<string, string> = fixture.fields;
const { JWT: realJwt, ...plain } = fields;

const form = (f: Record<string, string>) => Buffer.from(new URLSearchParams(f).toString());
const verify = (body: Buffer, headers: Record<string, string>, keys: KeyObject[] = [SHIPPED], over = {}) =>
  Promise.resolve(rockblock(settings({ keys, ...over })).verify({ raw: body, headers, clientIp: '192.0.2.10', now: Date.now() }));

/** A token over `claims` signed by `key` with header `{ alg }`. */
const signed = (claims: Record<string, unknown>, key = other.privateKey) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setIssuer('Rock 7').setIssuedAt().sign(key);
/** A hand-made token: any header, any signature. */
const forged = (header: object, claims: object, sig = '') =>
  `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}.${sig}`;
const realClaims = JSON.parse(Buffer.from(realJwt.split('.')[1], 'base64url').toString());

t.test('the shipped key is the published one (rockblock-public-key.pem)', async (t) => {
  const pem = readFileSync(resolve(__dirname, '../../../plugins/webhook-ingest/rockblock-public-key.pem'), 'utf8');
  t.equal(ROCKBLOCK_PUBLIC_KEY.trim(), pem.trim());
});

t.test('the captured 2023-09-05 delivery verifies, its signed claims are the record', async (t) => {
  const v = await verify(form(fields), FORM);
  t.equal(v.signed, true);
  t.same(v.fields, plain, 'every field, as signed strings');
  t.equal(v.dedupe, 'rockblock\u0000300434062099430\u000066\u000023-09-05 04:33:24', 'imei, momsn, transmit_time');
});

t.test('the same delivery posted as JSON, numbers as numbers, verifies', async (t) => {
  const json = { ...fields, momsn: 66, serial: 14331, iridium_latitude: 75.0001, iridium_cep: 3.0 };
  const v = await verify(Buffer.from(JSON.stringify(json)), JSON_TYPE);
  t.equal(v.signed, true);
  t.equal(v.fields?.momsn, '66', 'the record keeps the signed text');
  t.equal(v.fields?.iridium_cep, '3.0');
});

t.test('a key list: the captured delivery verifies when the shipped key is second (rotation)', async (t) => {
  const v = await verify(form(fields), FORM, [other.publicKey, SHIPPED]);
  t.equal(v.signed, true);
});

const refused: {
  desc: string;
  body: () => Promise<Buffer>;
  headers?: Record<string, string>;
  keys?: KeyObject[];
  match: RegExp;
  status?: number;
}[] = [
  { desc: 'an altered field (data)', body: async () => form({ ...fields, data: '00' }), match: /data differs/ },
  { desc: 'an altered field (imei)', body: async () => form({ ...fields, imei: '300434062099431' }), match: /imei differs/ },
  { desc: 'a field the JWT does not sign', body: async () => form({ ...fields, extra: 'x' }), match: /extra is not signed/ },
  {
    desc: 'JSON: a number that is not the signed one',
    body: async () => Buffer.from(JSON.stringify({ ...fields, momsn: 67 })),
    headers: JSON_TYPE,
    match: /momsn differs/,
  },
  {
    desc: 'the captured delivery against another key only',
    body: async () => form(fields),
    keys: [other.publicKey],
    match: /does not verify/,
  },
  { desc: 'a token signed by another key', body: async () => form({ ...plain, JWT: await signed(plain) }), match: /does not verify/ },
  {
    desc: 'alg: none, no signature',
    body: async () => form({ ...plain, JWT: forged({ alg: 'none' }, realClaims) }),
    match: /does not verify/,
  },
  {
    desc: 'HS256 with the public key as the secret',
    body: async () => {
      const key = new TextEncoder().encode(ROCKBLOCK_PUBLIC_KEY);
      return form({ ...plain, JWT: await new SignJWT(realClaims).setProtectedHeader({ alg: 'HS256' }).sign(key) });
    },
    match: /does not verify/,
  },
  {
    desc: 'the real signature over changed claims',
    body: async () => form({ ...plain, momsn: '67', JWT: forged({ alg: 'RS256' }, { ...realClaims, momsn: '67' }, realJwt.split('.')[2]) }),
    match: /does not verify/,
  },
  {
    desc: 'a wrong issuer (signed by a key we trust)',
    body: async () =>
      form({ ...plain, JWT: await new SignJWT(plain).setProtectedHeader({ alg: 'RS256' }).setIssuer('Rock 8').sign(other.privateKey) }),
    keys: [other.publicKey],
    match: /does not verify.*iss/,
  },
  { desc: 'a garbled token', body: async () => form({ ...plain, JWT: 'not.a.jwt' }), match: /does not verify/ },
  { desc: 'no JWT, unsigned posts not allowed', body: async () => form(plain), match: /no JWT/ },
  { desc: 'an empty body', body: async () => Buffer.alloc(0), match: /empty/, status: 400 },
  { desc: 'malformed JSON', body: async () => Buffer.from('{"imei":'), headers: JSON_TYPE, match: /not valid JSON/, status: 400 },
  { desc: 'a JSON array', body: async () => Buffer.from('[1]'), headers: JSON_TYPE, match: /not a JSON object/, status: 400 },
  {
    desc: 'another content type',
    body: async () => form(fields),
    headers: { 'content-type': 'text/plain' },
    match: /Content-Type text\/plain/,
    status: 400,
  },
  { desc: 'a field twice', body: async () => Buffer.from(`${form(fields).toString()}&imei=1`), match: /more than once/, status: 400 },
];
for (const c of refused) {
  t.test(`refused: ${c.desc}`, async (t) => {
    const err = await verify(await c.body(), c.headers ?? FORM, c.keys).then(
      () => undefined,
      (e: Error & { status?: number; code?: string }) => e,
    );
    t.ok(err, 'refused');
    t.equal(err?.status, c.status ?? 401);
    t.equal(err?.code, (c.status ?? 401) === 401 ? 'GH_ERR_WEBHOOK_INGEST_UNVERIFIED' : 'GH_ERR_WEBHOOK_INGEST_INVALID');
    t.match(err?.message, c.match);
  });
}

t.test('a token we sign with a trusted second key verifies (rotation to a new key)', async (t) => {
  const v = await verify(form({ ...plain, JWT: await signed(plain) }), FORM, [SHIPPED, other.publicKey]);
  t.equal(v.signed, true);
  t.same(v.fields, plain);
});

const unsignedCases: { desc: string; over: object; ip?: string; ok: boolean }[] = [
  { desc: 'a listed IMEI', over: { imeis: ['300434062099430'] }, ok: true },
  { desc: 'another IMEI listed', over: { imeis: ['300434062099999'] }, ok: false },
  { desc: 'a source inside an allowed CIDR', over: { cidrs: ['192.0.2.0/24'] }, ok: true },
  { desc: 'a source outside the allowed CIDRs', over: { cidrs: ['198.51.100.0/24', '2001:db8::/32'] }, ok: false },
  { desc: 'verify.required: false', over: { required: false }, ok: true },
];
for (const c of unsignedCases) {
  t.test(`unsigned post, ${c.desc}: ${c.ok ? 'accepted' : 'refused'}`, async (t) => {
    const result = await verify(form(plain), FORM, [SHIPPED], c.over).then(
      (v) => v,
      (e: Error) => e,
    );
    if (c.ok) {
      t.notOk(result instanceof Error, 'accepted');
      t.equal((result as { signed: boolean }).signed, false, 'marked unsigned');
      t.ok((result as { dedupe: string }).dedupe.startsWith('rockblock\u0000300434062099430\u000066\u0000'), 'its dedupe key');
    } else t.match(result, { status: 401 });
  });
}

t.test('an allowed unsigned post still needs imei, momsn and transmit_time for its dedupe key', async (t) => {
  const { momsn: _m, ...noMomsn } = plain;
  await t.rejects(verify(form(noMomsn), FORM, [SHIPPED], { required: false }), { status: 400, message: /momsn/ });
});
