/**
 * Allocation-free IP text parsing for the region table's hot path.
 *
 * IPv4 addresses become unsigned 32-bit integers held in plain numbers, so the IPv4 path never
 * touches BigInt. IPv6 addresses become four unsigned 32-bit words, most significant first.
 */
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

// Hex digit values by character code (-1: not a hex digit); a table beats branching here.
const HEX = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d++) {
  HEX['0123456789abcdef'.charCodeAt(d)] = d;
  HEX['0123456789ABCDEF'.charCodeAt(d)] = d;
}

// Reused by parseIPv6 so that a lookup allocates nothing.
const groups = new Uint16Array(8);

/** Zone id characters `net.isIPv6` accepts after `%`: letters, digits, `-`, `.`, `:`. */
function isZoneText(s: string, from: number, end: number): boolean {
  if (from >= end) return false;
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i);
    const lower = c | 0x20;
    if (!((c >= ZERO && c <= NINE) || (lower >= 97 && lower <= 122) || c === 45 || c === DOT || c === COLON)) return false;
  }
  return true;
}

/**
 * Parses IPv6 text, `s.slice(0, len)`, into four 32-bit words, most significant first, written
 * to `out`.
 *
 * Accepts exactly what `net.isIPv6` accepts (the tests hold it to that), including an embedded
 * IPv4 tail and a zone id (`%eth0`, ignored). Like {@link parseIPv4} it validates while it
 * parses, in one pass, because the regular expression alone costs more than this function.
 *
 * @returns false, leaving `out` unspecified, when the text is not a valid IPv6 address.
 */
export function parseIPv6(s: string, out: Uint32Array | number[], len = s.length): boolean {
  let end = len; // end of the address part, before any zone id
  let n = 0; // groups written
  let gap = -1; // group index where "::" stands
  let gapAt = -1; // character index of "::"
  let value = 0;
  let digits = 0;
  let segStart = 0;
  let i = 0;
  if (len >= 2 && s.charCodeAt(0) === COLON) {
    if (s.charCodeAt(1) !== COLON) return false;
    gap = 0;
    gapAt = 0;
    i = segStart = 2;
  }
  let tailV4 = false;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === COLON) {
      if (digits === 0) {
        // Right after a group's colon: the second colon of "::", allowed once.
        if (gap >= 0 || i === 0) return false;
        gap = n;
        gapAt = i - 1;
      } else {
        if (n === 8) return false;
        groups[n++] = value;
        value = 0;
        digits = 0;
      }
      segStart = i + 1;
    } else if (c === DOT) {
      // A dotted IPv4 tail: the rest of the address, worth two groups.
      const pct = s.indexOf('%', i);
      if (pct >= 0 && pct < len) end = pct;
      const v4 = parseIPv4(s, segStart, end);
      if (v4 < 0 || n > 6) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      tailV4 = true;
      break;
    } else if (c === 37 /* % */) {
      end = i;
      break;
    } else {
      const h = c < 128 ? HEX[c] : -1;
      if (h < 0 || digits === 4) return false;
      value = (value << 4) | h;
      digits++;
    }
  }
  if (end < len && !isZoneText(s, end + 1, len)) return false;
  if (!tailV4) {
    if (digits > 0) {
      if (n === 8) return false;
      groups[n++] = value;
    } else if (!(gap >= 0 && gapAt === end - 2)) {
      return false; // empty, or ends in a single colon
    }
  }
  if (gap < 0) {
    if (n !== 8) return false;
  } else {
    if (n > 7) return false;
    // Slide the groups after "::" to the end and zero the run it stands for.
    const tail = n - gap;
    for (let k = tail - 1; k >= 0; k--) groups[8 - tail + k] = groups[gap + k];
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  }
  for (let w = 0; w < 4; w++) out[w] = ((groups[2 * w] << 16) | groups[2 * w + 1]) >>> 0;
  return true;
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
  for (let i = 0; i < 8;) {
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
