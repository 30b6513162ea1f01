import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Whether two byte strings are equal, in time independent of where they differ. Both sides are
 * hashed first so that lengths differing tells nothing and `timingSafeEqual` never throws.
 */
export function safeEqual(a: Buffer | string, b: Buffer | string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** HMAC of `parts` under `key`. */
export function hmac(algorithm: string, key: Buffer | string, ...parts: (Buffer | string)[]): Buffer {
  const h = createHmac(algorithm, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * Whether any of `presented` (signatures as sent, already decoded from their encoding) equals
 * any of `expected`. Every pair is compared, so the time does not say which secret matched.
 */
export function anyEqual(presented: readonly Buffer[], expected: readonly Buffer[]): boolean {
  let ok = false;
  for (const p of presented) for (const e of expected) ok = safeEqual(p, e) || ok;
  return ok;
}

/** Decode a signature from hex or base64; undefined when it is not valid in that encoding. */
export function decodeSignature(text: string, encoding: 'hex' | 'base64'): Buffer | undefined {
  const t = text.trim();
  if (encoding === 'hex') return /^(?:[0-9a-fA-F]{2})+$/.test(t) ? Buffer.from(t, 'hex') : undefined;
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(t) ? Buffer.from(t, 'base64') : undefined;
}
