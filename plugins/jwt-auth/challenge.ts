import type { GatehouseError } from '../../core/plugin-api';

/** error_description may hold visible ASCII and space but `"` and `\` (RFC 6750 §3). */
const quotable = (text: string): string => text.replace(/"/g, "'").replace(/[^\x20-\x7e]|\\/g, ' ');

/**
 * The `WWW-Authenticate` header of a refusal (RFC 6750 §3): the realm alone when no token was
 * sent (§3.1: no error code then), `invalid_request` for a 400, `invalid_token` otherwise.
 */
export function challenge(realm: string, err: GatehouseError, missing: boolean): Record<string, string> {
  if (missing) return { 'www-authenticate': `Bearer realm="${realm}"` };
  const code = err.status === 400 ? 'invalid_request' : 'invalid_token';
  return { 'www-authenticate': `Bearer realm="${realm}", error="${code}", error_description="${quotable(err.message)}"` };
}
