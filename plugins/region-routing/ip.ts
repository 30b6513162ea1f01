/**
 * Allocation-free IP text parsing for the region table's hot path.
 *
 * IPv4 addresses become unsigned 32-bit integers held in plain numbers, so the IPv4 path never
 * touches BigInt. IPv6 addresses become four unsigned 32-bit words, most significant first.
 */
import { isIPv6 } from 'node:net';

const DOT = 46;
const COLON = 58;
const ZERO = 48;
const NINE = 57;

/**
 * Parses dotted-quad IPv4 text, `s.slice(start, end)`, to an unsigned 32-bit integer.
 *
 * Accepts exactly what `net.isIPv4` accepts (four decimal parts 0-255, no leading zeros, no
 * whitespace); the tests hold it to that. It does its own check because it runs on every
 * request and a character loop costs less than the regular expression plus a second parse.
 *
 * @returns the address, or -1 when the text is not a valid IPv4 address.
 */
export function parseIPv4(s: string, start = 0, end = s.length): number {
  let addr = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= ZERO && c <= NINE) {
      // A leading zero is only allowed for the part "0" itself.
      if (digits === 1 && part === 0) return -1;
      part = part * 10 + (c - ZERO);
      if (part > 255) return -1;
      digits++;
    } else if (c === DOT) {
      if (digits === 0 || dots === 3) return -1;
      addr = addr * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return addr * 256 + part;
}

function hexValue(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

// Reused by parseIPv6 so that a lookup allocates nothing.
const groups = new Uint16Array(8);

/**
 * Parses one run of colon-separated hex groups (either side of a `::`) into `groups`, starting
 * at group index `at`. A dotted IPv4 tail fills two groups.
 *
 * @returns the number of groups written, or -1 on malformed text.
 */
function parseGroupRun(s: string, start: number, end: number, at: number): number {
  if (start === end) return 0;
  let n = 0;
  let value = 0;
  let digits = 0;
  let segStart = start;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : COLON;
    if (c === COLON) {
      if (digits === 0 || at + n >= 8) return -1;
      groups[at + n++] = value;
      value = 0;
      digits = 0;
      segStart = i + 1;
    } else if (c === DOT) {
      // The embedded IPv4 part is always the last segment.
      const v4 = parseIPv4(s, segStart, end);
      if (v4 < 0 || at + n + 2 > 8) return -1;
      groups[at + n++] = v4 >>> 16;
      groups[at + n++] = v4 & 0xffff;
      return n;
    } else {
      const h = hexValue(c);
      if (h < 0 || digits === 4) return -1;
      value = value * 16 + h;
      digits++;
    }
  }
  return n;
}

/**
 * Parses IPv6 text into four 32-bit words, most significant first, written to `out`.
 *
 * Validation is left to `net.isIPv6` (see {@link parseIPv6Checked}); this only has to be right
 * for valid input and must not throw on invalid input. A zone id (`%eth0`) is ignored.
 *
 * @returns false when the text could not be parsed.
 */
export function parseIPv6(s: string, out: Uint32Array | number[]): boolean {
  let end = s.indexOf('%');
  if (end < 0) end = s.length;
  groups.fill(0);
  const gap = s.indexOf('::');
  if (gap < 0 || gap >= end) {
    if (parseGroupRun(s, 0, end, 0) !== 8) return false;
  } else {
    const head = parseGroupRun(s, 0, gap, 0);
    if (head < 0) return false;
    // Parse the tail after the head, then slide it to the end of the address.
    const tail = parseGroupRun(s, gap + 2, end, head);
    if (tail < 0 || head + tail > 7) return false;
    for (let k = tail - 1; k >= 0; k--) {
      groups[8 - tail + k] = groups[head + k];
      groups[head + k] = 0;
    }
  }
  for (let w = 0; w < 4; w++) out[w] = ((groups[2 * w] << 16) | groups[2 * w + 1]) >>> 0;
  return true;
}

/** {@link parseIPv6} behind Node's own `net.isIPv6` check. */
export function parseIPv6Checked(s: string, out: Uint32Array | number[]): boolean {
  return isIPv6(s) && parseIPv6(s, out);
}

/**
 * True when `s` starts with `::ffff:` in any letter case: the form in which dual-stack sockets
 * report IPv4 peers, worth a shortcut before the general IPv6 path.
 */
export function hasMappedPrefix(s: string): boolean {
  return (
    s.length > 7 &&
    s.charCodeAt(0) === COLON &&
    s.charCodeAt(1) === COLON &&
    (s.charCodeAt(2) | 0x20) === 102 &&
    (s.charCodeAt(3) | 0x20) === 102 &&
    (s.charCodeAt(4) | 0x20) === 102 &&
    (s.charCodeAt(5) | 0x20) === 102 &&
    s.charCodeAt(6) === COLON
  );
}

/** Formats an unsigned 32-bit integer as dotted-quad text. */
export function formatIPv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/**
 * Formats four 32-bit words as RFC 5952 canonical IPv6 text: lower case, the longest run of
 * two or more zero groups as `::`, IPv4-mapped addresses as `::ffff:1.2.3.4`.
 */
export function formatIPv6(words: ArrayLike<number>): string {
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return `::ffff:${formatIPv4(words[3])}`;
  const g: number[] = [];
  for (let w = 0; w < 4; w++) g.push(words[w] >>> 16, words[w] & 0xffff);
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never shortened
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    g
      .slice(from, to)
      .map((x) => x.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}
