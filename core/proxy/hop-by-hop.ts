/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1). */
export const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
] as const;

type Headers = NodeJS.Dict<string | string[] | number>;

const NONE: readonly string[] = [];
/** Connection values that name no header beyond HOP_BY_HOP: nearly every message carries one of these. */
const PLAIN = new Set(['keep-alive', 'close', 'upgrade', 'Keep-Alive', 'Close', 'Upgrade']);

/**
 * Headers that frame a message or name its target: never removable through Connection, or
 * a body would be piped without its framing (request smuggling). The gateway refuses a
 * request whose Connection names one (core/proxy/framing.ts); this is the second fence.
 */
export const FRAMING_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'host']);

/** Header names a Connection header lists besides the fixed hop-by-hop ones, lowercased (never a framing header). */
export function connectionNames(value: string | string[] | number | undefined): readonly string[] {
  if (value === undefined || (typeof value === 'string' && PLAIN.has(value))) return NONE;
  return String(value)
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'close' && !FRAMING_HEADERS.has(s));
}

/** Whether a Connection value names Content-Length, Transfer-Encoding or Host (any case or spacing). */
export function connectionNamesFraming(value: string | string[] | number | undefined): boolean {
  if (value === undefined || (typeof value === 'string' && PLAIN.has(value))) return false;
  for (const token of String(value).split(',')) if (FRAMING_HEADERS.has(token.trim().toLowerCase())) return true;
  return false;
}

/**
 * Hop-by-hop header names present in `headers` (by presence: most messages carry none but
 * Connection, and this runs twice per request). An upgrade keeps Connection and Upgrade.
 */
export function hopByHopPresent(headers: Headers, upgrading: boolean): readonly string[] {
  let found: string[] | undefined;
  for (const h of HOP_BY_HOP)
    if (headers[h] !== undefined && !(upgrading && (h === 'connection' || h === 'upgrade'))) (found ??= []).push(h);
  if (headers.connection !== undefined) {
    for (const t of connectionNames(headers.connection)) {
      if (headers[t] !== undefined && !(upgrading && t === 'upgrade') && !found?.includes(t)) (found ??= []).push(t);
    }
  }
  return found ?? NONE;
}

/** Delete the hop-by-hop headers of a (response) header object in place. */
export function stripHopByHop(headers: Headers, upgrading: boolean): void {
  for (const h of hopByHopPresent(headers, upgrading)) delete headers[h];
}

const RESPONSE_DROP = new Set<string>(HOP_BY_HOP);

/**
 * An upstream's headers as a flat `[name, value, …]` list for `writeHead`, without
 * hop-by-hop headers (and those the Connection header names) and without
 * `Transfer-Encoding: chunked`, which Node re-frames for the client (HTTP/1.0 included).
 * `writeHead` with a list stores the headers in one pass, where http-proxy's own writer
 * calls `setHeader` once per header.
 */
export function clientHeaders(headers: NodeJS.Dict<string | string[]>): (string | string[])[] {
  const named = connectionNames(headers.connection);
  const flat: (string | string[])[] = [];
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || RESPONSE_DROP.has(k) || (named !== NONE && named.includes(k))) continue;
    if (k === 'transfer-encoding' && typeof v === 'string' && v.toLowerCase() === 'chunked') continue;
    flat.push(k, v);
  }
  return flat;
}
