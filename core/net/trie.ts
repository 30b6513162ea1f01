/**
 * The compiled lookup structure behind `PrefixTable`: a 16-way trie with leaf pushing and
 * single-prefix leaves, in typed arrays.
 *
 * Why this shape: with 100,000 prefixes the cost of a lookup is memory latency, one cache miss
 * per trie level below the first few. Four bits per level keeps IPv4 walks to 8 levels and a
 * node to one 64-byte cache line; leaf pushing makes each level a single read; and a subtree
 * that holds one prefix only (the common case a few levels down) is stored as one leaf record
 * checked with a masked compare, instead of a chain of nodes, so that an IPv6 /64 costs a
 * handful of misses rather than sixteen.
 */
import type { PrefixStore } from './prefix-store';

const FANOUT = 16;
// Leaf record: 1 + prefix index, fallback slot value, then word and mask pairs w0 m0 w1 m1 …,
// so that an IPv4 check reads the first 16 bytes only.
const LEAF_INTS = 10;
const V4_ROOT = 0;
const V6_ROOT = 1;

/** Mask of the top `len` bits of a word, as a signed 32-bit integer like the typed arrays hold. */
function maskOf(len: number): number {
  return len <= 0 ? 0 : len >= 32 ? -1 : -1 << (32 - len);
}

/** The 4 bits at trie `level` of prefix `i` in `words` (four words per prefix). */
function nibble(words: Uint32Array, i: number, level: number): number {
  return (words[4 * i + (level >>> 3)] >>> (28 - 4 * (level & 7))) & 15;
}

/**
 * Longest-prefix match over the prefixes of a store, as they are when it is built. Lookups
 * return the index of the matching prefix in the store, or -1.
 *
 * Slot encoding: > 0 a child node (the roots, nodes 0 and 1, are nobody's child); 0 no match;
 * -(1 + i) for i < prefix count: prefix i; -(1 + count + j): leaf record j.
 */
export class CompiledTrie {
  private slots: Int32Array;
  private leaves: Int32Array;
  private nodes = 2;
  private leafCount = 0;
  private readonly count: number;
  // Build-time only: prefix indices, partitioned in place level by level (an MSD radix sort
  // that doubles as the trie walk), and the buffer and per-level bucket counts it uses.
  private readonly run: Int32Array;
  private readonly scratch: Int32Array;
  private readonly counts = Array.from({ length: 33 }, () => new Int32Array(FANOUT + 1));

  constructor(private readonly store: PrefixStore) {
    const n = store.count;
    this.count = n;
    this.slots = new Int32Array(FANOUT * Math.max(64, n >>> 2));
    this.leaves = new Int32Array(LEAF_INTS * Math.max(16, n));
    this.run = new Int32Array(n);
    this.scratch = new Int32Array(n);
    for (const family of [4, 6] as const) {
      let size = 0;
      for (let i = 0; i < n; i++) if (store.families[i] === family) this.run[size++] = i;
      // The IPv6 pass may reuse the run: the IPv4 trie is complete by then.
      this.build(family === 4 ? V4_ROOT : V6_ROOT, 0, 0, size);
    }
  }

  /** Trie nodes (64 bytes each) and leaf records (40 bytes each), for memory estimates. */
  get stats(): { nodes: number; leaves: number } {
    return { nodes: this.nodes, leaves: this.leafCount };
  }

  /** Index of the longest prefix containing the IPv4 address (an unsigned 32-bit integer), or -1. */
  lookupV4(addr: number): number {
    const slots = this.slots;
    let node = V4_ROOT;
    // Level-7 slots never hold children (no prefix is longer than /32), so the loop ends there.
    for (let shift = 28; shift >= 0; shift -= 4) {
      const slot = slots[node * FANOUT + ((addr >>> shift) & 15)];
      if (slot > 0) {
        node = slot;
        continue;
      }
      const e = -slot - 1;
      if (e < this.count) return e; // also -1 for an empty slot
      const at = (e - this.count) * LEAF_INTS;
      const leaves = this.leaves;
      return ((addr ^ leaves[at + 2]) & leaves[at + 3]) === 0 ? leaves[at] - 1 : -leaves[at + 1] - 1;
    }
    return -1;
  }

  /** Index of the longest prefix containing the IPv6 address (four 32-bit words), or -1. */
  lookupV6(w: ArrayLike<number>): number {
    const slots = this.slots;
    let node = V6_ROOT;
    for (let word = 0; word < 4; word++) {
      const bits = w[word];
      for (let shift = 28; shift >= 0; shift -= 4) {
        const slot = slots[node * FANOUT + ((bits >>> shift) & 15)];
        if (slot > 0) {
          node = slot;
          continue;
        }
        const e = -slot - 1;
        if (e < this.count) return e;
        const at = (e - this.count) * LEAF_INTS;
        const l = this.leaves;
        const match =
          ((w[0] ^ l[at + 2]) & l[at + 3]) === 0 &&
          ((w[1] ^ l[at + 4]) & l[at + 5]) === 0 &&
          ((w[2] ^ l[at + 6]) & l[at + 7]) === 0 &&
          ((w[3] ^ l[at + 8]) & l[at + 9]) === 0;
        return match ? l[at] - 1 : -l[at + 1] - 1;
      }
    }
    return -1;
  }

  /**
   * Fills `node` (at trie `level`) from run[from..to): the prefixes whose path passes through
   * this node.
   */
  private build(node: number, level: number, from: number, to: number): void {
    const { lens, words } = this.store;
    const run = this.run;
    const base = node * FANOUT;
    const limit = 4 * level + 4; // longest prefix that ends at this level
    const counts = this.counts[level];
    counts.fill(0);
    const here: number[] = [];
    for (let i = from; i < to; i++) {
      const j = run[i];
      if (lens[j] <= limit) here.push(j);
      else counts[nibble(words, j, level) + 1]++;
    }
    // Prefixes ending here, shortest first so that a prefix inside another overrides it; the
    // slot values are then final before children inherit them.
    if (here.length > 1) here.sort((a, b) => lens[a] - lens[b]);
    for (const j of here) {
      const fixed = lens[j] - 4 * level; // bits of this level's nibble the prefix fixes (0-4)
      const first = fixed <= 0 ? 0 : nibble(words, j, level) & (0xf << (4 - fixed));
      this.slots.fill(-j - 1, base + first, base + first + (1 << (4 - Math.max(fixed, 0))));
    }
    // The rest, bucketed by this level's nibble into run[from..), stable.
    for (let k = 0; k < FANOUT; k++) counts[k + 1] += counts[k];
    const scratch = this.scratch;
    for (let i = from; i < to; i++) {
      const j = run[i];
      if (lens[j] > limit) scratch[from + counts[nibble(words, j, level)]++] = j;
    }
    // counts[k] is now the end of bucket k; bucket k starts where bucket k - 1 ends.
    for (let i = from, end = from + counts[FANOUT - 1]; i < end; i++) run[i] = scratch[i];
    let start = from;
    for (let k = 0; k < FANOUT; k++) {
      const end = from + counts[k];
      if (end === start) continue;
      const at = base + k;
      const inherited = this.slots[at];
      if (end - start === 1) {
        // One prefix below this slot: a leaf record instead of a chain of nodes.
        this.slots[at] = -(this.count + this.addLeaf(run[start], inherited)) - 1;
      } else {
        const child = this.newNode();
        this.slots.fill(inherited, child * FANOUT, child * FANOUT + FANOUT);
        this.slots[at] = child;
        this.build(child, level + 1, start, end);
      }
      start = end;
    }
  }

  private addLeaf(index: number, fallback: number): number {
    if ((this.leafCount + 1) * LEAF_INTS > this.leaves.length) {
      const grown = new Int32Array(this.leaves.length * 2);
      grown.set(this.leaves);
      this.leaves = grown;
    }
    const { lens, words, families } = this.store;
    const at = this.leafCount * LEAF_INTS;
    this.leaves[at] = index + 1;
    this.leaves[at + 1] = fallback; // 0 or -(1 + prefix index): a slot value, never a child
    for (let w = 0; w < 4; w++) {
      this.leaves[at + 2 + 2 * w] = words[4 * index + w];
      this.leaves[at + 3 + 2 * w] = families[index] === 4 && w > 0 ? 0 : maskOf(lens[index] - 32 * w);
    }
    return this.leafCount++;
  }

  private newNode(): number {
    if ((this.nodes + 1) * FANOUT > this.slots.length) {
      // Doubling keeps the total copying linear in the final size.
      const grown = new Int32Array(this.slots.length * 2);
      grown.set(this.slots);
      this.slots = grown;
    }
    return this.nodes++;
  }
}
