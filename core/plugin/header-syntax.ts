/**
 * JSON Schema pieces for header names and values that plugins take from the config and hand to
 * Node. Node refuses (throws on) a name that is not an RFC 9110 token and a value with CR, LF,
 * NUL or another control character, or a character above U+00FF: a config that gets past the
 * schema with one would fail every request that sends it, so schemas check them up front.
 */

/** An RFC 9110 token: what Node accepts as a header name (`^[!#$%&'*+.^_`|~0-9A-Za-z-]+$`). */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

/** What Node accepts in a header value: tab, visible ASCII, space and obs-text (no CR, LF, NUL, DEL or U+0100 and above). */
export const HEADER_VALUE_PATTERN = '^[\\t\\x20-\\x7e\\x80-\\xff]*$';

/** A pattern matching any of `words` in any letter case, whole (JSON Schema patterns take no flags). */
export function anyCase(words: readonly string[]): string {
  const letters = (w: string) =>
    [...w]
      .map((ch) => (/[a-z]/i.test(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
  return `^(?:${words.map(letters).join('|')})$`;
}

/**
 * Headers whose value is the framing or the connection itself, which an answer built by a
 * plugin must leave to Node: a fixed `content-length` or `transfer-encoding` would contradict
 * the body actually sent, and hop-by-hop headers describe a connection the plugin does not own.
 */
export const FRAMING_HEADERS = [
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
] as const;
