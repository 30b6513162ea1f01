/**
 * Flat storage for the prefixes of a `PrefixTable`, with an exact-match index.
 *
 * Typed arrays instead of one object per prefix, and a hand-rolled open-addressing hash instead
 * of a Map keyed by strings or large numbers: building a table of 100,000 prefixes then makes
 * almost no garbage, which is most of what a build costs.
 */

const EMPTY = -1;

/** Prefixes as parallel arrays: prefix i has family `families[i]`, length `lens[i]`, words `words[4i..4i+3]`. */
export class PrefixStore {
  /** Number of prefixes stored. */
  count = 0;
  /** Network words, four per prefix, most significant first; IPv4 uses the first only. */
  words = new Uint32Array(4 * 64);
  /** Prefix lengths. */
  lens = new Uint8Array(64);
  /** 4 or 6. */
  families = new Uint8Array(64);
  // Open addressing with linear probing: prefix index or EMPTY; at most half full.
  private index = new Int32Array(128).fill(EMPTY);

  /**
   * Stores a prefix (`words` already masked to `length`) unless the same one is present.
   *
   * @returns the new prefix's index, or -(1 + index) of the identical prefix already stored.
   */
  add(family: 4 | 6, length: number, words: ArrayLike<number>): number {
    const found = this.find(family, length, words);
    if (found >= 0) return -found - 1;
    if (this.count === this.lens.length) this.grow();
    const i = this.count++;
    for (let k = 0; k < 4; k++) this.words[4 * i + k] = family === 4 && k > 0 ? 0 : words[k];
    this.lens[i] = length;
    this.families[i] = family;
    if (this.count * 2 > this.index.length) this.rehash();
    else this.insert(i);
    return i;
  }

  /** Index of the identical prefix, or -1. */
  find(family: 4 | 6, length: number, words: ArrayLike<number>): number {
    const w1 = family === 4 ? 0 : words[1];
    const w2 = family === 4 ? 0 : words[2];
    const w3 = family === 4 ? 0 : words[3];
    const mask = this.index.length - 1;
    for (let h = hash(family, length, words[0], w1, w2, w3) & mask; ; h = (h + 1) & mask) {
      const i = this.index[h];
      if (i === EMPTY) return -1;
      const at = 4 * i;
      if (
        this.lens[i] === length &&
        this.families[i] === family &&
        this.words[at] === words[0] >>> 0 &&
        this.words[at + 1] === w1 >>> 0 &&
        this.words[at + 2] === w2 >>> 0 &&
        this.words[at + 3] === w3 >>> 0
      ) {
        return i;
      }
    }
  }

  private insert(i: number): void {
    const at = 4 * i;
    const w = this.words;
    const mask = this.index.length - 1;
    let h = hash(this.families[i], this.lens[i], w[at], w[at + 1], w[at + 2], w[at + 3]) & mask;
    while (this.index[h] !== EMPTY) h = (h + 1) & mask;
    this.index[h] = i;
  }

  private rehash(): void {
    this.index = new Int32Array(this.index.length * 2).fill(EMPTY);
    for (let i = 0; i < this.count; i++) this.insert(i);
  }

  private grow(): void {
    const size = this.lens.length * 2;
    const words = new Uint32Array(4 * size);
    words.set(this.words);
    this.words = words;
    const lens = new Uint8Array(size);
    lens.set(this.lens);
    this.lens = lens;
    const families = new Uint8Array(size);
    families.set(this.families);
    this.families = families;
  }
}

function hash(family: number, length: number, w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ (length << 8) ^ family, 0x9e3779b1);
  h = Math.imul(h ^ w1 ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ w2 ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ w3 ^ (h >>> 16), 0x27d4eb2f);
  return h ^ (h >>> 15);
}
