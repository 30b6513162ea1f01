import { errors } from './errors';
import type { JwtAuthOptions } from './schema';

/** What the request carries: a token (and where it was found), none, or two different ones. */
export type Found = { readonly token: string; readonly where: string } | undefined;

/** A header's value as one string (Node joins repeats of an unknown header with ", "). */
const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(', ') : v);

/** `Bearer <token>` (scheme in any case, RFC 6750 §2.1), else undefined. */
function bearer(value: string): string | undefined {
  const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(value);
  return m?.[1];
}

/** The first cookie of that name (browsers send the most specific path first), unquoted. */
function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const v = part.slice(eq + 1).trim();
    return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
  }
  return undefined;
}

/**
 * Reads the token from where `from` says. Every configured place is looked at, so that a request
 * carrying two different tokens is refused (RFC 6750 §2: one method per request) rather than
 * verified by whichever place happens to be read first.
 */
export class TokenReader {
  private readonly header?: string;

  constructor(private readonly from: Readonly<JwtAuthOptions['from']>) {
    this.header = from.header?.toLowerCase();
  }

  /** The token of a request; throws AMBIGUOUS (400) for two different ones. */
  read(headers: NodeJS.Dict<string | string[]>, query: URLSearchParams): Found {
    let found: Found;
    const take = (token: string | undefined, where: string) => {
      if (token === undefined || token === '') return;
      if (found && found.token !== token)
        throw errors.create('AMBIGUOUS', `The request carries different tokens in the ${found.where} and the ${where}`);
      found ??= { token, where };
    };
    const { authorization, cookie, query: param } = this.from;
    const auth = authorization === 'ignore' ? undefined : one(headers.authorization)?.trim();
    if (auth !== undefined && auth !== '') {
      // A bare token has no space; anything else with one is another scheme (Basic …), not ours.
      take(bearer(auth) ?? (authorization === 'bearer-or-raw' && !/\s/.test(auth) ? auth : undefined), 'Authorization header');
    }
    if (this.header) {
      const v = one(headers[this.header])?.trim();
      if (v !== undefined) take(bearer(v) ?? v, `${this.from.header} header`);
    }
    if (cookie !== undefined) {
      const c = one(headers.cookie);
      if (c !== undefined) take(cookieValue(c, cookie), `${cookie} cookie`);
    }
    if (param !== undefined) {
      const values = query.getAll(param);
      if (values.length > 1) throw errors.create('AMBIGUOUS', `The query parameter ${param} is given ${values.length} times`);
      take(values[0], `${param} query parameter`);
    }
    return found;
  }
}
