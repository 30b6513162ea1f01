import { stateKey, type StateKey } from '../../core/plugin-api';

/** The claims of a verified token: the registered ones typed (RFC 7519 §4.1), any other as the issuer wrote it. */
export interface JwtClaims {
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string | readonly string[];
  readonly exp?: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly jti?: string;
  readonly [claim: string]: unknown;
}

/**
 * Where `jwt-auth` leaves the verified claims for later plugins of the request:
 * `ctx.get(JWT_CLAIMS)?.sub`. Unset when no token was verified (an `except` rule let the
 * request through). The object is frozen, nested values too. Custom plugins import it from
 * the package: `import { JWT_CLAIMS } from 'gatehouse'`.
 */
export const JWT_CLAIMS: StateKey<JwtClaims> = stateKey<JwtClaims>('jwt-auth.claims');

/** Freeze a parsed JSON value and everything in it, so no plugin can change what another reads. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
