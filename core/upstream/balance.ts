import type { Context } from '../pipeline/context';
import type { BalancePolicy } from '../config/types';
import type { Target } from './target';

/** Whether a target may take a request now (healthy, not ejected, below its limit). */
export type Usable = (t: Target) => boolean;

/**
 * Chooses a target for a request. `targets` is the pool's list (replaced, never changed in
 * place, when targets come and go, so a selector may index it); only targets `usable` accepts
 * may be returned; `undefined` when none is.
 */
export interface Selector {
  pick(targets: readonly Target[], usable: Usable, ctx: Context): Target | undefined;
  /** The targets changed: rebuild what is derived from them (rings, weight sums). */
  reset?(targets: readonly Target[]): void;
}

/** The first usable target from a random offset: the fallback when sampling found none. */
function scan(targets: readonly Target[], usable: Usable): Target | undefined {
  const n = targets.length;
  const from = (Math.random() * n) | 0;
  for (let i = 0; i < n; i++) {
    const t = targets[(from + i) % n];
    if (usable(t)) return t;
  }
  return undefined;
}

/** Smooth weighted round robin (nginx): weights 5,1,1 give a a b a c a a, never long runs. */
export class RoundRobin implements Selector {
  pick(targets: readonly Target[], usable: Usable): Target | undefined {
    let best: Target | undefined;
    let total = 0;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i];
      if (!usable(t)) continue;
      t.current += t.weight;
      total += t.weight;
      if (best === undefined || t.current > best.current) best = t;
    }
    if (best) best.current -= total;
    return best;
  }

  reset(targets: readonly Target[]): void {
    for (const t of targets) t.current = 0;
  }
}

/** Random choices in proportion to weight, from a cumulative-weight table built on change. */
class Weighted {
  private cum = new Float64Array(0);
  private total = 0;
  private uniform = true;

  reset(targets: readonly Target[]): void {
    this.cum = new Float64Array(targets.length);
    let sum = 0;
    this.uniform = true;
    for (let i = 0; i < targets.length; i++) {
      sum += targets[i].weight;
      this.cum[i] = sum;
      if (targets[i].weight !== targets[0].weight) this.uniform = false;
    }
    this.total = sum;
  }

  /** A usable target drawn by weight (a few draws, then a scan), or undefined. */
  draw(targets: readonly Target[], usable: Usable): Target | undefined {
    const n = targets.length;
    if (n === 0) return undefined;
    if (this.cum.length !== n) this.reset(targets);
    for (let k = 0; k < 3; k++) {
      const t = targets[this.index(n)];
      if (usable(t)) return t;
    }
    return scan(targets, usable);
  }

  private index(n: number): number {
    if (this.uniform) return (Math.random() * n) | 0;
    const x = Math.random() * this.total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Weighted random. */
export class RandomChoice extends Weighted implements Selector {
  pick(targets: readonly Target[], usable: Usable): Target | undefined {
    return this.draw(targets, usable);
  }
}

/**
 * Power of two choices: two targets drawn by weight, the one of lower `cost` wins. With
 * least-request the cost is in-flight requests per weight (Envoy's); with p2c-ewma it is the
 * latency EWMA times in-flight requests (Finagle's and Linkerd's), so a slow target gets less.
 */
export class PowerOfTwo extends Weighted implements Selector {
  constructor(private readonly latency: boolean) {
    super();
  }

  pick(targets: readonly Target[], usable: Usable): Target | undefined {
    const a = this.draw(targets, usable);
    if (a === undefined || targets.length === 1) return a;
    let b = this.draw(targets, usable);
    // A second, different one: two draws of the same target would make P2C plain random.
    for (let k = 0; b === a && k < 2; k++) b = this.draw(targets, usable);
    if (b === undefined || b === a) return a;
    const now = this.latency ? performance.now() : 0;
    return this.cost(b, now) < this.cost(a, now) ? b : a;
  }

  private cost(t: Target, now: number): number {
    // On a tie (idle targets) the first draw wins, and it was drawn by weight: weights hold
    // when the load does not tell targets apart. An unmeasured target costs little, so it is tried.
    if (!this.latency) return t.active / t.weight;
    return ((t.latencyAt(now) || 1e-3) * (t.active + 1)) / t.weight;
  }
}

/** 32-bit FNV-1a of a string. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Murmur3's finaliser: FNV alone spreads near-identical keys poorly.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Points per target on the ring (Envoy's minimum ring is 1024 for all; 160 each is ketama's). */
const POINTS = 160;

/** The value of a request that ring-hash hashes, per `hashKey`. */
export type KeyOf = (ctx: Context) => string | undefined;

/** A `hashKey` (header:NAME, cookie:NAME, query:NAME, ip, path) as a function of the request. */
export function keyOf(hashKey: string): KeyOf {
  const colon = hashKey.indexOf(':');
  const kind = colon < 0 ? hashKey : hashKey.slice(0, colon);
  const name = colon < 0 ? '' : hashKey.slice(colon + 1);
  if (kind === 'ip') return (ctx) => ctx.clientIp;
  if (kind === 'path') return (ctx) => ctx.path;
  if (kind === 'query') return (ctx) => ctx.query.get(name) ?? undefined;
  if (kind === 'header') {
    const h = name.toLowerCase();
    return (ctx) => {
      const v = ctx.req.headers[h];
      return Array.isArray(v) ? v.join(',') : v;
    };
  }
  const prefix = `${name}=`;
  return (ctx) => {
    const cookie = ctx.req.headers.cookie;
    if (!cookie) return undefined;
    for (const part of cookie.split(';')) {
      const p = part.trim();
      if (p.startsWith(prefix)) return p.slice(prefix.length);
    }
    return undefined;
  };
}

/**
 * Consistent hashing (ketama): each target owns POINTS points on a 32-bit ring, a key goes to
 * the first usable target clockwise from its hash, so adding one target to n moves about
 * 1/(n+1) of the keys. Requests without the key are spread at random.
 */
export class RingHash implements Selector {
  private hashes = new Uint32Array(0);
  private owners: Target[] = [];
  private built: readonly Target[] | undefined;

  constructor(private readonly key: KeyOf) {}

  reset(targets: readonly Target[]): void {
    const points: [number, Target][] = [];
    for (const t of targets) for (let i = 0; i < POINTS; i++) points.push([fnv1a(`${t.key}#${i}`), t]);
    points.sort((x, y) => x[0] - y[0]);
    this.hashes = Uint32Array.from(points, (p) => p[0]);
    this.owners = points.map((p) => p[1]);
    this.built = targets;
  }

  pick(targets: readonly Target[], usable: Usable, ctx: Context): Target | undefined {
    if (this.built !== targets) this.reset(targets);
    const k = this.key(ctx);
    if (k === undefined || this.hashes.length === 0) return scan(targets, usable);
    const h = fnv1a(k);
    let lo = 0;
    let hi = this.hashes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.hashes[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    for (let i = 0; i < this.owners.length; i++) {
      const t = this.owners[(lo + i) % this.owners.length];
      if (usable(t)) return t;
    }
    return undefined;
  }
}

/** The selector of a policy. */
export function selectorFor(policy: BalancePolicy, hashKey: string): Selector {
  switch (policy) {
    case 'least-request':
      return new PowerOfTwo(false);
    case 'p2c-ewma':
      return new PowerOfTwo(true);
    case 'ring-hash':
      return new RingHash(keyOf(hashKey));
    case 'random':
      return new RandomChoice();
    default:
      return new RoundRobin();
  }
}
