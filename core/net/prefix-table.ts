/**
 * Longest-prefix-match table for IPv4 and IPv6 CIDRs.
 *
 * Parsing, validation and the public API live here; the lookup structure, a 16-way trie in
 * typed arrays whose lookup cost does not depend on the number of prefixes, is in `trie.ts`.
 * The IPv4 path works on 32-bit integers only (no BigInt anywhere).
 */
import { formatIPv4, formatIPv6, hasMappedPrefix, parseIPv4, parseIPv6 } from './ip-parse';
import { PrefixStore } from './prefix-store';
import { CompiledTrie } from './trie';

/** What went wrong in {@link PrefixTable.add} or {@link parseCidr}. */
export type PrefixTableErrorCode = 'INVALID_CIDR' | 'DUPLICATE_PREFIX';

/** A CIDR that cannot be parsed, or a prefix added twice. */
export class PrefixTableError extends Error {
  readonly code: PrefixTableErrorCode;
  /** The CIDR text as given. */
  readonly cidr: string;
  /** Why, without the CIDR (for callers that build their own message). */
  readonly reason: string;
  /** For `DUPLICATE_PREFIX`: the value already stored for the prefix. */
  readonly existing?: unknown;

  constructor(code: PrefixTableErrorCode, cidr: string, reason: string, existing?: unknown) {
    super(`${code === 'INVALID_CIDR' ? 'Invalid CIDR' : 'Duplicate prefix'} "${cidr}": ${reason}`);
    this.name = 'PrefixTableError';
    this.code = code;
    this.cidr = cidr;
    this.reason = reason;
    this.existing = existing;
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

// readCidr's result: the length in the low byte, then flags.
const TRIE_V6 = 256; // lives in the IPv6 trie
const WRITTEN_V6 = 512; // written as IPv6 (differs from TRIE_V6 for IPv4-mapped prefixes)

/**
 * Parses a CIDR into `words` (the network address, four words; IPv4 uses the first) without
 * allocating, because a build parses every prefix. IPv4-mapped IPv6 prefixes (`::ffff:0:0/96`
 * and longer) come out as IPv4, since mapped addresses are looked up as IPv4.
 *
 * @returns the prefix length (in the trie's family) | TRIE_V6 | WRITTEN_V6.
 * @throws PrefixTableError with code `INVALID_CIDR`.
 */
function readCidr(cidr: string, words: Uint32Array): number {
  if (typeof cidr !== 'string') throw invalid(String(cidr), 'not a string');
  const slash = cidr.indexOf('/');
  const addrEnd = slash < 0 ? cidr.length : slash;
  // The hand-written parsers accept exactly what net.isIPv4 / net.isIPv6 accept (the tests
  // check them against it) and need no substring.
  const v4 = parseIPv4(cidr, 0, addrEnd);
  let v6 = false;
  if (v4 >= 0) {
    words.fill(0);
    words[0] = v4;
  } else {
    const zone = cidr.indexOf('%');
    if ((zone >= 0 && zone < addrEnd) || !parseIPv6(cidr, words, addrEnd)) {
      const addr = cidr.slice(0, addrEnd);
      throw invalid(cidr, `"${addr}" is not an IPv4 or IPv6 address${zone >= 0 && zone < addrEnd ? ' without a zone id' : ''}`);
    }
    v6 = true;
  }
  const max = v6 ? 128 : 32;
  let length = max;
  if (slash >= 0) {
    const digits = cidr.length - slash - 1;
    let ok = digits >= 1 && digits <= 3;
    length = 0;
    for (let i = slash + 1; ok && i < cidr.length; i++) {
      const d = cidr.charCodeAt(i) - 48;
      ok = d >= 0 && d <= 9;
      length = length * 10 + d;
    }
    if (!ok) throw invalid(cidr, `prefix length "${cidr.slice(slash + 1)}" is not a number`);
    if (length > max) throw invalid(cidr, `prefix length ${length} exceeds ${max}`);
  }
  for (let k = 0; k < (v6 ? 4 : 1); k++) {
    if ((words[k] & ~maskOf(length - 32 * k)) !== 0) {
      const network = Array.from(words, (w, i) => (w & maskOf(length - 32 * i)) >>> 0);
      const text = v6 ? formatIPv6(network) : formatIPv4(network[0]);
      throw invalid(cidr, `host bits are set past the prefix length (network is ${text}/${length})`);
    }
  }
  if (v6 && length >= 96 && words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    words[0] = words[3];
    words[3] = 0;
    words[2] = 0;
    return (length - 96) | WRITTEN_V6;
  }
  return length | (v6 ? TRIE_V6 | WRITTEN_V6 : 0);
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
  const w = new Uint32Array(4);
  const code = readCidr(cidr, w);
  const length = code & 255;
  if (code & TRIE_V6) return { family: 6, length, words: [...w], canonical: `${formatIPv6(w)}/${length}` };
  const canonical = code & WRITTEN_V6 ? `${formatIPv6([0, 0, 0xffff, w[0]])}/${length + 96}` : `${formatIPv4(w[0])}/${length}`;
  return { family: 4, length, words: [w[0]], canonical };
}

// Reused by lookup and add so that neither allocates.
const scratch = new Uint32Array(4);
const cidrWords = new Uint32Array(4);

/**
 * A longest-prefix-match table from IPv4 and IPv6 CIDRs to values.
 *
 * Overlapping prefixes are allowed and the longest match wins (`10.1.0.0/16` beats
 * `10.0.0.0/8`); adding the same prefix twice is an error. IPv4-mapped IPv6 addresses
 * (`::ffff:1.2.3.4`) are looked up as IPv4.
 *
 * The lookup structure ({@link CompiledTrie}) is compiled from all prefixes on the first lookup
 * after an `add`, or by {@link PrefixTable.compile}: build once, look up many times.
 */
export class PrefixTable<V> {
  private trie: CompiledTrie | undefined;
  private readonly store = new PrefixStore();
  private readonly values: V[] = [];

  /** Number of prefixes in the table. */
  get size(): number {
    return this.values.length;
  }

  /** Size of the compiled structure: trie nodes (64 bytes each) and leaf records (40 bytes each). */
  get stats(): { nodes: number; leaves: number } {
    return this.compiled().stats;
  }

  /**
   * Adds a prefix.
   *
   * @throws PrefixTableError `INVALID_CIDR` for malformed text, `DUPLICATE_PREFIX` (with the
   *   `existing` value) when the same prefix, however written, is already present.
   */
  add(cidr: string, value: V): void {
    const code = readCidr(cidr, cidrWords);
    const index = this.store.add(code & TRIE_V6 ? 6 : 4, code & 255, cidrWords);
    if (index < 0) {
      const existing = this.values[-index - 1];
      throw new PrefixTableError('DUPLICATE_PREFIX', cidr, `${parseCidr(cidr).canonical} is already in the table`, existing);
    }
    this.values.push(value);
    this.trie = undefined;
  }

  /** The value stored for exactly this prefix, if any. @throws PrefixTableError for malformed text. */
  get(cidr: string): V | undefined {
    const code = readCidr(cidr, cidrWords);
    const index = this.store.find(code & TRIE_V6 ? 6 : 4, code & 255, cidrWords);
    return index < 0 ? undefined : this.values[index];
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
    if (!parseIPv6(ip, scratch)) return undefined;
    if (scratch[0] === 0 && scratch[1] === 0 && scratch[2] === 0xffff) return this.lookupV4(scratch[3]);
    return this.lookupV6(scratch);
  }

  /** Longest-prefix match for an IPv4 address given as an unsigned 32-bit integer. */
  lookupV4(addr: number): V | undefined {
    const index = (this.trie ?? this.compiled()).lookupV4(addr);
    return index < 0 ? undefined : this.values[index];
  }

  /** Longest-prefix match for an IPv6 address given as four 32-bit words, most significant first. */
  lookupV6(words: ArrayLike<number>): V | undefined {
    const index = (this.trie ?? this.compiled()).lookupV6(words);
    return index < 0 ? undefined : this.values[index];
  }

  /** Builds the lookup structure now rather than on the next lookup. Idempotent. */
  compile(): void {
    this.compiled();
  }

  private compiled(): CompiledTrie {
    this.trie ??= new CompiledTrie(this.store);
    return this.trie;
  }
}

/**
 * Builds and compiles a table from `[cidr, value]` pairs.
 *
 * @throws PrefixTableError on the first malformed or duplicate CIDR.
 */
export function buildPrefixTable<V>(entries: Iterable<readonly [string, V]>): PrefixTable<V> {
  const table = new PrefixTable<V>();
  for (const [cidr, value] of entries) table.add(cidr, value);
  table.compile();
  return table;
}
