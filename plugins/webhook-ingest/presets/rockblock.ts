import type { KeyObject } from 'node:crypto';
import { jwtVerify, type JWTPayload } from 'jose';
import { errors } from '../errors';
import { parseBody } from '../fields';
import { unsigned, type Inbound, type PresetSettings, type Verdict, type Verifier } from './types';

/** The issuer RockBLOCK signs with. */
export const ROCKBLOCK_ISSUER = 'Rock 7';
/** Claims that are about the token, not the message. */
const TOKEN_CLAIMS = new Set(['iss', 'iat']);

/** The posted fields as sent: strings from a form, strings or numbers from JSON. */
function postedFields(inbound: Inbound): Map<string, string | number> {
  const body = parseBody(inbound.raw, inbound.headers['content-type']);
  const out = new Map<string, string | number>();
  if (body.kind === 'form') {
    for (const [k, v] of body.form) {
      if (out.has(k)) throw errors.create('INVALID', `The RockBLOCK post has the field ${k} more than once`);
      out.set(k, v);
    }
  } else {
    for (const [k, v] of Object.entries(body.json)) {
      if (typeof v !== 'string' && typeof v !== 'number')
        throw errors.create('INVALID', `The RockBLOCK field ${k} is neither text nor a number`);
      out.set(k, v);
    }
  }
  return out;
}

/** Whether a posted value is the signed one: the same text, or (JSON) the number the text reads as. */
function sameValue(posted: string | number, signed: string): boolean {
  if (typeof posted === 'string') return posted === signed;
  return signed.trim() !== '' && Number(signed) === posted;
}

async function verifyToken(token: string, keys: readonly KeyObject[]): Promise<JWTPayload> {
  let last: unknown;
  for (const key of keys) {
    try {
      // The algorithm is fixed here: the token's own header is never trusted to choose it (alg: none, HS256 with the public key as secret).
      const { payload } = await jwtVerify(token, key, { algorithms: ['RS256'], issuer: ROCKBLOCK_ISSUER });
      return payload;
    } catch (err) {
      last = err;
    }
  }
  const why = last instanceof Error ? last.message : String(last);
  throw errors.create('UNVERIFIED', `The RockBLOCK JWT does not verify with any configured key: ${why}`);
}

/** The dedupe key of a message: momsn wraps at 65535, so the transmit time tells its rounds apart. */
function dedupeOf(fields: Readonly<Record<string, string>>): string {
  const { imei, momsn, transmit_time: time } = fields;
  if (!imei || momsn === undefined || !time) throw errors.create('INVALID', 'The RockBLOCK post lacks imei, momsn or transmit_time');
  return `rockblock\u0000${imei}\u0000${momsn}\u0000${time}`;
}

/**
 * RockBLOCK MO posts (form-encoded or JSON): the `JWT` field is RS256 over every other field as
 * a string, issued by "Rock 7". The signed claims are the authenticated record: every posted
 * field must equal its claim. Posts without a JWT (older deliveries) are refused unless their
 * IMEI or source address is allowed, or `verify.required` is false.
 */
export function rockblock(settings: PresetSettings): Verifier {
  return {
    async verify(inbound: Inbound): Promise<Verdict> {
      const posted = postedFields(inbound);
      const token = posted.get('JWT');
      posted.delete('JWT');
      if (token === undefined || token === '') {
        const fields = Object.fromEntries([...posted].map(([k, v]) => [k, String(v)]));
        const allowed = settings.allowUnsigned.imeis.has(fields.imei ?? '') || settings.allowUnsigned.allowsIp(inbound.clientIp);
        const verdict = allowed ? { signed: false } : unsigned(settings, 'JWT');
        return { ...verdict, fields, dedupe: dedupeOf(fields) };
      }
      if (typeof token !== 'string') throw errors.create('UNVERIFIED', 'The RockBLOCK JWT is not text');
      const claims = await verifyToken(token, settings.keys);
      const record: Record<string, string> = {};
      for (const [k, v] of Object.entries(claims)) {
        if (TOKEN_CLAIMS.has(k)) continue;
        if (typeof v !== 'string') throw errors.create('UNVERIFIED', `The RockBLOCK JWT claim ${k} is not a string`);
        record[k] = v;
      }
      for (const [k, v] of posted) {
        if (!Object.hasOwn(record, k)) throw errors.create('UNVERIFIED', `The RockBLOCK field ${k} is not signed by the JWT`);
        if (!sameValue(v, record[k])) throw errors.create('UNVERIFIED', `The RockBLOCK field ${k} differs from its signed value`);
      }
      return { signed: true, fields: record, dedupe: dedupeOf(record) };
    },
  };
}
