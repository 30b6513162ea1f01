import type { IncomingHttpHeaders } from 'node:http';
import type { JwtClaims } from './state';

/** A claim value as header text: strings as they are, numbers and booleans written out, lists joined with ", ", objects as JSON. */
function headerText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'))
    return value.join(', ');
  return JSON.stringify(value);
}

/** Control characters (but tab), which no header value may hold. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * `forwardClaims`: verified claims sent upstream as request headers. Headers of those names are
 * removed from every request first, whatever the client sent and whether or not a token was
 * checked, so an upstream can believe them. CGI-style backends read `X_User` as `X-User`, so
 * names that differ only by `_` for `-` go too (core drops them only from untrusted peers).
 */
export class ClaimHeaders {
  private readonly pairs: readonly (readonly [claim: string, header: string])[];
  private readonly names: ReadonlySet<string>;

  constructor(forward: Readonly<Record<string, string>>) {
    this.pairs = Object.entries(forward).map(([claim, header]) => [claim, header.toLowerCase()] as const);
    this.names = new Set(this.pairs.map(([, h]) => h.replace(/_/g, '-')));
  }

  /** Remove client-sent headers of the forwarded names. */
  strip(headers: IncomingHttpHeaders): void {
    if (this.names.size === 0) return;
    for (const name of Object.keys(headers)) if (this.names.has(name.replace(/_/g, '-'))) delete headers[name];
  }

  /**
   * Set the headers of the claims the token has; returns the claims that could not be sent
   * (a control character in the value), for the log. Text beyond Latin-1 goes as its UTF-8 bytes.
   */
  set(headers: IncomingHttpHeaders, claims: JwtClaims): string[] {
    const skipped: string[] = [];
    for (const [claim, header] of this.pairs) {
      const text = headerText(claims[claim]);
      if (text === undefined) continue;
      if (CONTROL.test(text)) {
        skipped.push(claim);
        continue;
      }
      // eslint-disable-next-line no-control-regex
      headers[header] = /^[\x00-\x7f]*$/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
    }
    return skipped;
  }
}
