import { decodeProtectedHeader, errors as jose, jwtVerify, type JWTVerifyOptions } from 'jose';
import { GatehouseError } from '../../core/plugin-api';
import { errors } from './errors';
import type { JwksKeys } from './jwks';
import type { PublicKeyEntry } from './keys';
import type { JwtAuthOptions } from './schema';
import { deepFreeze, type JwtClaims } from './state';

/** What a token is verified with, read at start. */
export type KeyMaterial =
  | { readonly kind: 'secret'; readonly secret: Uint8Array }
  | { readonly kind: 'pem'; readonly keys: readonly PublicKeyEntry[] }
  | { readonly kind: 'jwks'; readonly jwks: JwksKeys };

/** Outcomes of one request, the label of `verifications_total`. */
export type Outcome = 'valid' | 'exempt' | 'missing' | 'ambiguous' | 'invalid' | 'expired' | 'jwks_unavailable';

/** A verified token's claims, or the answer and outcome of a refused one. */
export type Verdict = { readonly claims: JwtClaims } | { readonly error: GatehouseError; readonly outcome: Outcome };

/**
 * Why a token was refused, in words of our own: jose's errors carry the claims (`payload`), and
 * nothing of the token goes into an answer or a log line.
 */
function refusal(err: unknown, algorithms: readonly string[]): { error: GatehouseError; outcome: Outcome } {
  const invalid = (why: string) => ({ error: errors.create('INVALID', why), outcome: 'invalid' as const });
  if (err instanceof jose.JWTExpired) {
    const why = err.claim === 'iat' ? 'The token is older than maxAge' : 'The token expired';
    return { error: errors.create('INVALID', why), outcome: 'expired' };
  }
  if (err instanceof jose.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return invalid(`The token lacks the "${err.claim}" claim`);
    if (err.claim === 'nbf') return invalid('The token is not valid yet (nbf)');
    if (err.claim === 'iat') return invalid('The token was issued in the future (iat)');
    if (err.claim === 'aud') return invalid('The token is not meant for this audience (aud)');
    if (err.claim === 'iss') return invalid('The token is from an issuer not accepted here (iss)');
    return invalid(`The token's "${err.claim}" claim is not valid`);
  }
  if (err instanceof jose.JOSEAlgNotAllowed)
    return invalid(`The token is not signed with an accepted algorithm (${algorithms.join(', ')})`);
  if (err instanceof jose.JWSSignatureVerificationFailed) return invalid('The token signature does not verify');
  if (err instanceof jose.JWKSNoMatchingKey) return invalid('No key of the key set matches the token');
  if (err instanceof jose.JOSENotSupported) return invalid('The token uses an algorithm or key type that is not supported');
  return invalid('The token is malformed');
}

/** Checks a token's signature and claims, with jose, under the options. */
export class Verifier {
  private readonly checks: JWTVerifyOptions;

  constructor(
    private readonly options: Readonly<JwtAuthOptions>,
    private readonly material: () => KeyMaterial,
  ) {
    this.checks = {
      // The only algorithms ever accepted: the token's own header never chooses beyond them.
      algorithms: [...options.algorithms],
      clockTolerance: options.leeway,
      requiredClaims: [...options.requiredClaims],
      ...(options.audience !== undefined ? { audience: options.audience } : {}),
      ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
      ...(options.maxAge !== undefined ? { maxTokenAge: options.maxAge } : {}),
    };
  }

  async verify(token: string): Promise<Verdict> {
    try {
      const claims = await this.claims(token);
      return { claims: deepFreeze(claims) };
    } catch (err) {
      if (err instanceof GatehouseError && err.code === errors.code('JWKS_UNAVAILABLE')) return { error: err, outcome: 'jwks_unavailable' };
      return refusal(err, this.options.algorithms);
    }
  }

  private async claims(token: string): Promise<JwtClaims> {
    const m = this.material();
    if (m.kind === 'secret') return (await jwtVerify(token, m.secret, this.checks)).payload;
    if (m.kind === 'jwks') return (await jwtVerify(token, m.jwks.key, this.checks)).payload;
    // Only keys of the kind the (allowed) algorithm is defined for are tried, each under the
    // algorithms it fits: an RSA key is never handed to HMAC, whatever the header says.
    const { alg } = decodeProtectedHeader(token);
    const keys = m.keys.filter((k) => k.algorithms.some((a) => a === alg));
    if (keys.length === 0) throw new jose.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
    let last: unknown;
    for (const k of keys) {
      try {
        return (await jwtVerify(token, k.key, { ...this.checks, algorithms: [...k.algorithms] })).payload;
      } catch (err) {
        // Claims are checked after the signature: any other error holds for every key.
        if (!(err instanceof jose.JWSSignatureVerificationFailed)) throw err;
        last = err;
      }
    }
    throw last;
  }
}
