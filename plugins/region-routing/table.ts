/**
 * Longest-prefix-match table for IPv4 and IPv6 CIDRs.
 *
 * A binary trie over address bits stored in typed arrays: a lookup walks at most 32 (IPv4) or
 * 128 (IPv6) nodes whatever the number of prefixes, touches no objects on the way, and the
 * IPv4 path works on 32-bit integers only.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatIPv4, formatIPv6, hasMappedPrefix, parseIPv4, parseIPv6, parseIPv6Checked } from './ip';

/** What went wrong in {@link PrefixTable.add} or {@link parseCidr}. */
export type PrefixTableErrorCode = 'INVALID_CIDR' | 'DUPLICATE_PREFIX';

/** A CIDR that cannot be parsed, or a prefix added twice. */
export class PrefixTableError extends Error {
  readonly code: PrefixTableErrorCode;
  /** The CIDR text as given. */
  readonly cidr: string;
  /** Why, without the CIDR (for callers that build their own message). */
  readonly reason: string;

  constructor(code: PrefixTableErrorCode, cidr: string, reason: string) {
    super(`${code === 'INVALID_CIDR' ? 'Invalid CIDR' : 'Duplicate prefix'} "${cidr}": ${reason}`);
    this.name = 'PrefixTableError';
    this.code = code;
    this.cidr = cidr;
    this.reason = reason;
  }
}

/** A parsed, validated CIDR. */
export interface ParsedCidr {
  /** The trie the prefix lives in: IPv4-mapped IPv6 prefixes (`::ffff:0:0/96` and longer) count as IPv4. */
  readonly family: 4 | 6;
  /** Prefix length in bits, within `family`. */
  readonly length: number;
  /** The network address: one word for IPv4, four (most significant first) for IPv6. */
  readonly words: readonly number[];
  /** Canonical text in the family it was written in, e.g. `10.0.0.0/8`, `2001:db8::/32`. */
  readonly canonical: string;
}

function invalid(cidr: string, reason: string): PrefixTableError {
  return new PrefixTableError('INVALID_CIDR', cidr, reason);
}

/** Mask of the top `len` bits of a 32-bit word, as an unsigned number. */
function maskOf(len: number): number {
  return len <= 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
}

/**
 * Parses and validates a CIDR such as `10.0.0.0/8` or `2001:db8::/32`. A bare address counts
 * as a host prefix (/32 or /128), as Python's `ipaddress` read it in the original service.
 *
 * Rejected, with a reason: anything `net.isIPv4`/`net.isIPv6` rejects, zone ids, a prefix
 * length that is not 0-32 / 0-128 in decimal, and host bits set past the prefix (`10.0.0.1/8`;
 * the original rejected those too, and they are usually a typo for a longer prefix).
 *
 * @throws PrefixTableError with code `INVALID_CIDR`.
 */
export function parseCidr(cidr: string): ParsedCidr {
  if (typeof cidr !== 'string') throw invalid(String(cidr), 'not a string');
  const slash = cidr.indexOf('/');
  const addrText = slash < 0 ? cidr : cidr.slice(0, slash);
  let family: 4 | 6;
  let words: number[];
  if (isIPv4(addrText)) {
    family = 4;
    words = [parseIPv4(addrText)];
  } else if (isIPv6(addrText) && !addrText.includes('%')) {
    family = 6;
    words = [0, 0, 0, 0];
    if (!parseIPv6(addrText, words)) throw invalid(cidr, 'not an IP address');
  } else {
    throw invalid(cidr, `"${addrText}" is not an IPv4 or IPv6 address`);
  }
  const max = family === 4 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const lenText = cidr.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(lenText)) throw invalid(cidr, `prefix length "${lenText}" is not a number`);
    length = Number(lenText);
    if (length > max) throw invalid(cidr, `prefix length ${length} exceeds ${max}`);
  }
  const network = words.map((w, i) => (w & maskOf(length - 32 * i)) >>> 0);
  if (network.some((w, i) => w !== words[i])) {
    const fixed = family === 4 ? formatIPv4(network[0]) : formatIPv6(network);
    throw invalid(cidr, `host bits are set past the prefix length (network is ${fixed}/${length})`);
  }
  const canonical = `${family === 4 ? formatIPv4(network[0]) : formatIPv6(network)}/${length}`;
  if (family === 6 && length >= 96 && network[0] === 0 && network[1] === 0 && network[2] === 0xffff) {
    return { family: 4, length: length - 96, words: [network[3]], canonical };
  }
  return { family, length, words: network, canonical };
}

const V4_ROOT = 0;
const V6_ROOT = 1;
// Reused by lookup so that an IPv6 lookup allocates nothing.
const scratch = new Uint32Array(4);

/**
 * A longest-prefix-match table from IPv4 and IPv6 CIDRs to values.
 *
 * Overlapping prefixes are allowed and the longest match wins (`10.1.0.0/16` beats
 * `10.0.0.0/8`); adding the same prefix twice is an error. IPv4-mapped IPv6 addresses
 * (`::ffff:1.2.3.4`) are looked up as IPv4.
 */
export class PrefixTable<V> {
  // Node n's children are kids[2n] (bit 0) and kids[2n + 1] (bit 1); 0 means none, which is
  // safe because the two roots (nodes 0 and 1) are never anybody's child.
  private kids = new Int32Array(2048);
  // 1 + index into `values` of the prefix ending at node n; 0 means none.
  private vals = new Int32Array(1024);
  private nodes = 2;
  private readonly values: V[] = [];

  /** Number of prefixes in the table. */
  get size(): number {
    return this.values.length;
  }

  /** Number of trie nodes (for memory estimates: 12 bytes each). */
  get nodeCount(): number {
    return this.nodes;
  }

  /**
   * Adds a prefix.
   *
   * @returns the parsed prefix (its `canonical` text is handy for messages and de-duplication).
   * @throws PrefixTableError `INVALID_CIDR` for malformed text, `DUPLICATE_PREFIX` when the same
   *   prefix (after canonicalisation) is already present.
   */
  add(cidr: string, value: V): ParsedCidr {
    const p = parseCidr(cidr);
    const node = this.walkOrCreate(p);
    if (this.vals[node] !== 0) {
      throw new PrefixTableError('DUPLICATE_PREFIX', cidr, `${p.canonical} is already in the table`);
    }
    this.values.push(value);
    this.vals[node] = this.values.length;
    return p;
  }

  /** The value already stored for exactly this prefix, if any. @throws PrefixTableError for malformed text. */
  get(cidr: string): V | undefined {
    const p = parseCidr(cidr);
    let node = p.family === 4 ? V4_ROOT : V6_ROOT;
    for (let i = 0; i < p.length; i++) {
      node = this.kids[2 * node + ((p.words[i >>> 5] >>> (31 - (i & 31))) & 1)];
      if (node === 0) return undefined;
    }
    return this.vals[node] !== 0 ? this.values[this.vals[node] - 1] : undefined;
  }

  /**
   * The value of the longest prefix containing `ip`, or undefined when none does or `ip` is not
   * a valid IPv4 or IPv6 address. Never throws. A zone id (`fe80::1%eth0`) is ignored.
   */
  lookup(ip: string): V | undefined {
    if (typeof ip !== 'string') return undefined;
    const v4 = parseIPv4(ip);
    if (v4 >= 0) return this.lookupV4(v4);
    if (hasMappedPrefix(ip)) {
      const mapped = parseIPv4(ip, 7);
      if (mapped >= 0) return this.lookupV4(mapped);
    }
    if (!parseIPv6Checked(ip, scratch)) return undefined;
    if (scratch[0] === 0 && scratch[1] === 0 && scratch[2] === 0xffff) return this.lookupV4(scratch[3]);
    return this.lookupV6(scratch);
  }

  /** Longest-prefix match for an IPv4 address given as an unsigned 32-bit integer. */
  lookupV4(addr: number): V | undefined {
    const kids = this.kids;
    const vals = this.vals;
    let best = vals[V4_ROOT];
    let node = V4_ROOT;
    for (let i = 31; i >= 0; i--) {
      node = kids[2 * node + ((addr >>> i) & 1)];
      if (node === 0) break;
      if (vals[node] !== 0) best = vals[node];
    }
    return best === 0 ? undefined : this.values[best - 1];
  }

  /** Longest-prefix match for an IPv6 address given as four 32-bit words, most significant first. */
  lookupV6(words: ArrayLike<number>): V | undefined {
    const kids = this.kids;
    const vals = this.vals;
    let best = vals[V6_ROOT];
    let node = V6_ROOT;
    outer: for (let w = 0; w < 4; w++) {
      const word = words[w];
      for (let i = 31; i >= 0; i--) {
        node = kids[2 * node + ((word >>> i) & 1)];
        if (node === 0) break outer;
        if (vals[node] !== 0) best = vals[node];
      }
    }
    return best === 0 ? undefined : this.values[best - 1];
  }

  private walkOrCreate(p: ParsedCidr): number {
    let node = p.family === 4 ? V4_ROOT : V6_ROOT;
    for (let i = 0; i < p.length; i++) {
      const slot = 2 * node + ((p.words[i >>> 5] >>> (31 - (i & 31))) & 1);
      let child = this.kids[slot];
      if (child === 0) {
        child = this.newNode();
        this.kids[slot] = child;
      }
      node = child;
    }
    return node;
  }

  private newNode(): number {
    if (this.nodes === this.vals.length) {
      // Doubling keeps the total copying linear in the final size.
      const kids = new Int32Array(this.kids.length * 2);
      kids.set(this.kids);
      this.kids = kids;
      const vals = new Int32Array(this.vals.length * 2);
      vals.set(this.vals);
      this.vals = vals;
    }
    return this.nodes++;
  }
}

/**
 * Builds a table from `[cidr, value]` pairs.
 *
 * @throws PrefixTableError on the first malformed or duplicate CIDR.
 */
export function buildPrefixTable<V>(entries: Iterable<readonly [string, V]>): PrefixTable<V> {
  const table = new PrefixTable<V>();
  for (const [cidr, value] of entries) table.add(cidr, value);
  return table;
}
