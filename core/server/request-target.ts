/**
 * Checks on the request target and Host header that run before routing, so that what a route
 * rule sees is what the upstream gets: dot segments are resolved and escapes of unreserved
 * characters decoded (RFC 3986 §5.2.4 and §6.2.2), and forms a backend could read differently
 * (encoded slashes, NUL, fragments, several Host headers, a Host that is not host[:port]) are refused.
 */

/** Whether `%2F`/`%5C` and `\` in a path are refused (default) or kept as opaque bytes. */
export type EncodedSlashes = 'reject' | 'keep';

/** A path the checks refused, with the reason the client is told. */
export class TargetRefused {
  constructor(readonly reason: string) {}
}

const HEX = /^[0-9A-Fa-f]{2}$/;
const MATRIX_DOTS = /\/\.\.?;/;

/** RFC 3986 §2.3 unreserved characters: their escapes mean the same as the characters. */
function unreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x5f ||
    code === 0x7e
  );
}

/** Decode escapes of unreserved characters, upper-case the others; refuse NUL, bad escapes and (unless kept) slashes. */
function decodeEscapes(path: string, slashes: EncodedSlashes): string | TargetRefused {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i >= 0; i = path.indexOf('%', from)) {
    const hex = path.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return new TargetRefused('malformed percent-escape in the path');
    const code = parseInt(hex, 16);
    if (code === 0) return new TargetRefused('NUL in the path');
    if ((code === 0x2f || code === 0x5c) && slashes === 'reject') return new TargetRefused('encoded slash or backslash in the path');
    out += path.slice(from, i) + (unreserved(code) ? String.fromCharCode(code) : `%${hex.toUpperCase()}`);
    from = i + 3;
  }
  return out + path.slice(from);
}

/** RFC 3986 §5.2.4 remove_dot_segments for an absolute path; `..` never climbs above the root. */
export function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const s = segments[i];
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      if (i === last) out.push('');
    } else out.push(s);
  }
  return `/${out.join('/')}`;
}

/**
 * The path routes match and the upstream gets, or why it is refused. `path` is the request
 * target before `?` and starts with `/`. Most paths have nothing to normalise and come back
 * as they are, after three scans.
 */
export function normalizePath(path: string, slashes: EncodedSlashes): string | TargetRefused {
  const escaped = path.indexOf('%') >= 0;
  const backslash = path.indexOf('\\') >= 0;
  if (!escaped && !backslash && path.indexOf('/.') < 0 && path.indexOf('//') < 0) return path;
  if (backslash && slashes === 'reject') return new TargetRefused('backslash in the path');
  const unescaped = escaped ? decodeEscapes(path, slashes) : path;
  if (unescaped instanceof TargetRefused) return unescaped;
  // Empty segments are merged, as nginx's merge_slashes and most frameworks do: `/api//admin` is `/api/admin`.
  const decoded = unescaped.indexOf('//') < 0 ? unescaped : unescaped.replace(/\/{2,}/g, '/');
  if (decoded.indexOf('/.') < 0) return decoded;
  // Tomcat and others drop `;params` from a segment before resolving it, so `..;x` climbs there.
  if (MATRIX_DOTS.test(decoded)) return new TargetRefused('a dot segment with parameters (`..;`) in the path');
  // With empty segments merged first, nothing resolves to a protocol-relative "//host".
  return removeDotSegments(decoded);
}

/**
 * The path routes match: each segment without its `;parameters`, which Tomcat, Jetty and Spring
 * drop before they route (`/api/admin;x/secret` is `/api/admin/secret` there). The path itself,
 * parameters included, is what the upstream gets.
 */
export function withoutParams(path: string): string {
  if (path.indexOf(';') < 0) return path;
  return path
    .split('/')
    .map((s) => {
      const semi = s.indexOf(';');
      return semi < 0 ? s : s.slice(0, semi);
    })
    .join('/');
}

/** host[:port] with a reg-name or IPv4 host (RFC 3986 §3.2.2), or an IPv6 literal in brackets. */
const HOST = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*(?::[0-9]*)?$|^\[[0-9A-Fa-f:.]+\](?::[0-9]*)?$/;

/**
 * Why the Host header is refused, or undefined: more than one Host line (Node keeps the first,
 * a backend may read the last) or a value that is not host[:port] (`a b`, `user@host`, `[::1`).
 */
export function hostProblem(rawHeaders: readonly string[], host: string | undefined): string | undefined {
  if (host !== undefined && host !== '' && !HOST.test(host)) return 'invalid Host header';
  if (host === undefined) return undefined;
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 4 && name.toLowerCase() === 'host' && ++seen > 1) return 'more than one Host header';
  }
  return undefined;
}

/** The host part of a Host value, lower-cased, without the port (`[::1]:80` → `[::1]`). */
export function hostOf(raw: string): string {
  const colon = raw.indexOf(':');
  return (raw.startsWith('[') ? raw.slice(0, raw.indexOf(']') + 1) : colon < 0 ? raw : raw.slice(0, colon)).toLowerCase();
}
