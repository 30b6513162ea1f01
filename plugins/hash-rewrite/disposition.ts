/**
 * `Content-Disposition: attachment` per RFC 6266 with RFC 8187 `filename*`.
 *
 * The name comes from the metadata service and is not trusted: control characters
 * (CR, LF, NUL…), bidirectional overrides and path components are removed, quotes,
 * backslashes and percent signs never reach the quoted fallback, and the value is
 * pure ASCII whatever the input, so it can neither inject a header nor a path.
 */

/** C0/C1 controls, DEL, line/paragraph separators, bidi embeddings, overrides, isolates and marks. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this removes
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** RFC 8187 attr-char: what may appear unencoded in `filename*`. */
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;
/** Longest name kept, in code points (what common file systems allow). */
const MAX_NAME = 255;

/** The last path segment of `name`, without unsafe characters; '' when nothing usable is left. */
export function safeBasename(name: string): string {
  const segments = name
    .replace(UNSAFE, '')
    .split(/[/\\]/)
    .map((s) => s.trim());
  const last = segments.filter((s) => s !== '').pop() ?? '';
  return /^\.*$/.test(last) ? '' : truncate(last);
}

function truncate(name: string): string {
  const points = Array.from(name);
  if (points.length <= MAX_NAME) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? Array.from(name.slice(dot)) : [];
  const keep = ext.length > 0 && ext.length <= 16 ? ext : [];
  return points.slice(0, MAX_NAME - keep.length).join('') + keep.join('');
}

/** An ASCII stand-in: accents dropped where Unicode can decompose them, anything else unsafe becomes `_`. */
export function asciiFallback(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]|["\\%]/gu, '_');
}

/** RFC 8187 value-chars: UTF-8 bytes, percent-encoded outside attr-char (lone surrogates become U+FFFD). */
export function encodeExtValue(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * `attachment; filename="<ascii>"` plus `; filename*=UTF-8''<encoded>` when the name
 * is not plain safe ASCII. `fallbackName` is used when `name` has nothing usable.
 */
export function contentDisposition(name: string, fallbackName = 'download'): string {
  const base = safeBasename(name) || safeBasename(fallbackName) || 'download';
  const ascii = asciiFallback(base);
  return ascii === base ? `attachment; filename="${ascii}"` : `attachment; filename="${ascii}"; filename*=UTF-8''${encodeExtValue(base)}`;
}
