import type { KeyObject } from 'node:crypto';

/** The JWS algorithms jwt-auth verifies. `none` is not one: an unsigned token is never accepted. */
export const ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** Whether an algorithm is an HMAC one, verified with a shared secret. */
export const isHmac = (alg: Algorithm): boolean => alg.startsWith('HS');

/** The curve each ECDSA algorithm is defined on (RFC 7518 §3.4), as Node names it. */
const CURVES: Partial<Record<Algorithm, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** RFC 7518 §3.3: RSA keys below 2048 bits must not be used (jose refuses them too). */
export const MIN_RSA_BITS = 2048;

/**
 * Whether a public key can verify an algorithm. Checked before the key is tried, so that a
 * token can only ever be verified with a key of the kind its algorithm is defined for.
 */
export function keyFits(key: KeyObject, alg: Algorithm): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS')) return type === 'rsa';
  if (alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
  if (alg.startsWith('ES')) return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVES[alg];
  if (alg === 'EdDSA') return type === 'ed25519';
  return false;
}

/** A key's kind for messages: `rsa (2048 bits)`, `ec (prime256v1)`, `ed25519`. */
export function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  if (d?.modulusLength) return `${key.asymmetricKeyType} (${d.modulusLength} bits)`;
  if (d?.namedCurve) return `${key.asymmetricKeyType} (${d.namedCurve})`;
  return String(key.asymmetricKeyType);
}
