/** Seconds of history kept per route (15 minutes). */
export const RING_SECONDS = 900;
/** Routes tracked at most; requests of routes beyond are not sampled (route names come from the config, so this is a safety bound). */
export const RING_MAX_ROUTES = 256;

/**
 * Upper bounds (ms) of the per-second latency histogram: 0.05 ms to ~105 s in steps of √2,
 * so a percentile read from it is within a factor of √2 of the truth, interpolated inside.
 */
const BOUNDS: readonly number[] = Array.from({ length: 42 }, (_, i) => 0.05 * Math.SQRT2 ** i);
/** Buckets of a latency histogram (the last takes everything above the last bound). */
export const HIST_BUCKETS = BOUNDS.length + 1;
const LOG_BASE = Math.log(Math.SQRT2);
const LOG_FIRST = Math.log(BOUNDS[0]);

/** Index of the histogram bucket for a duration in ms (the last bucket takes everything above). */
function bucketOf(ms: number): number {
  if (!(ms > BOUNDS[0])) return 0;
  const i = Math.ceil((Math.log(ms) - LOG_FIRST) / LOG_BASE - 1e-9);
  return i >= BOUNDS.length ? BOUNDS.length : i;
}

/** The q-quantile (0..1) of a bucket histogram, linear inside the bucket; 0 when empty. */
export function quantileOf(counts: ArrayLike<number>, total: number, q: number): number {
  if (total === 0) return 0;
  const rank = q * total;
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (n === 0) continue;
    if (acc + n >= rank) {
      const lo = i === 0 ? 0 : BOUNDS[i - 1];
      const hi = i < BOUNDS.length ? BOUNDS[i] : BOUNDS[BOUNDS.length - 1] * Math.SQRT2;
      return lo + (hi - lo) * Math.min(1, Math.max(0, (rank - acc) / n));
    }
    acc += n;
  }
  return BOUNDS[BOUNDS.length - 1];
}

/** One route's current second and its ring of finished seconds. */
class RouteRing {
  /** The second being counted: requests, errors (5xx) and the latency histogram. */
  count = 0;
  errors = 0;
  readonly hist = new Uint32Array(BOUNDS.length + 1);
  /** Finished seconds, by `second % RING_SECONDS`; `stamp` says which second a slot holds. */
  readonly stamp = new Float64Array(RING_SECONDS).fill(-1);
  readonly requests = new Uint32Array(RING_SECONDS);
  readonly errs = new Uint32Array(RING_SECONDS);
  readonly p50 = new Float32Array(RING_SECONDS);
  readonly p99 = new Float32Array(RING_SECONDS);
  /** The histograms of the last {@link SampleRing.keepHistograms} seconds, by `second % keep` (a cluster worker's, for the primary to merge). */
  kept?: { stamp: Float64Array; hist: Uint32Array[] };
}

/**
 * One finished second of one route as a cluster worker hands it to the primary: requests, 5xx
 * errors and the latency histogram, sparse (`[bucket, count, bucket, count, …]`).
 */
export interface SecondCounts {
  readonly n: number;
  readonly e: number;
  readonly h: number[];
}

/** The finished seconds after some second, each with the routes that had requests in it. */
export interface FinishedSeconds {
  readonly last: number;
  readonly seconds: { readonly t: number; readonly routes: Record<string, SecondCounts> }[];
}

/** One second of one route, as the dashboard charts it. */
export interface SecondSample {
  /** Unix time of the second (s). */
  readonly t: number;
  readonly requests: number;
  /** Answers with a 5xx status. */
  readonly errors: number;
  /** Latency percentiles (ms) of the requests that ended in that second; 0 without requests. */
  readonly p50: number;
  readonly p99: number;
}

/** A route's history: parallel arrays over consecutive seconds, oldest first. */
export interface RouteSeries {
  readonly t: number[];
  readonly requests: number[];
  readonly errors: number[];
  readonly p50: number[];
  readonly p99: number[];
}

/**
 * Per-second samples of each route over the last 15 minutes, for the dashboard. A request
 * costs a Map lookup, a log and three additions into the current second; a timer (or
 * {@link roll}) closes the second, reading p50/p99 from its histogram into the ring.
 * Memory is fixed: {@link RING_SECONDS} slots per route, at most {@link RING_MAX_ROUTES} routes.
 */
export class SampleRing {
  private readonly routes = new Map<string, RouteRing>();
  private timer?: NodeJS.Timeout;
  private last = -1;
  /** The first second rolled: nothing was counted before it, so series start there at the earliest. */
  private first = -1;
  private readonly listeners = new Set<() => void>();
  /** Seconds of histograms kept besides the percentiles (0: none; see {@link keepHistograms}). */
  private keep = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  /**
   * Keep each route's per-second histogram for the last `seconds` finished seconds, so that
   * {@link finishedSince} can hand them on: a cluster worker's ring, read by the primary once a
   * second (the slack covers rounds it missed). A single process keeps none.
   */
  keepHistograms(seconds: number): void {
    this.keep = Math.max(0, Math.floor(seconds));
  }

  /** Count one finished request into the current second. */
  record(route: string, status: number, seconds: number): void {
    let r = this.routes.get(route);
    if (!r) {
      if (this.routes.size >= RING_MAX_ROUTES) return;
      this.routes.set(route, (r = new RouteRing()));
    }
    r.count++;
    if (status >= 500) r.errors++;
    r.hist[bucketOf(seconds * 1000)]++;
  }

  /** Roll once a second until {@link stop} (the timer does not hold the process open). */
  start(): void {
    if (this.timer) return;
    this.last = Math.floor(this.clock() / 1000) - 1;
    this.timer = setInterval(() => this.roll(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Close the counting second: what was counted since the last roll is the second before
   * now (`now` in ms). Seconds skipped by a late timer stay empty.
   */
  roll(now = this.clock()): void {
    const sec = Math.floor(now / 1000) - 1;
    if (sec <= this.last && this.last !== -1) return;
    this.last = sec;
    if (this.first === -1) this.first = sec;
    const slot = sec % RING_SECONDS;
    for (const r of this.routes.values()) {
      r.stamp[slot] = sec;
      r.requests[slot] = r.count;
      r.errs[slot] = r.errors;
      r.p50[slot] = quantileOf(r.hist, r.count, 0.5);
      r.p99[slot] = quantileOf(r.hist, r.count, 0.99);
      if (this.keep > 0) {
        r.kept ??= {
          stamp: new Float64Array(this.keep).fill(-1),
          hist: Array.from({ length: this.keep }, () => new Uint32Array(BOUNDS.length + 1)),
        };
        r.kept.stamp[sec % this.keep] = sec;
        r.kept.hist[sec % this.keep].set(r.hist);
      }
      r.count = 0;
      r.errors = 0;
      r.hist.fill(0);
    }
    for (const cb of this.listeners) cb();
  }

  /**
   * The finished seconds after `since` up to `upTo` (Unix s) that still have their histograms
   * (the last {@link keepHistograms} seconds), rolling first so that `upTo` is closed if the
   * clock has passed it. Routes without requests in a second are left out of it.
   */
  finishedSince(since: number, upTo: number): FinishedSeconds {
    this.roll();
    const last = Math.min(this.last, upTo);
    const seconds: FinishedSeconds['seconds'] = [];
    for (let sec = Math.max(since + 1, last - this.keep + 1, this.first); sec <= last && this.keep > 0; sec++) {
      const routes: Record<string, SecondCounts> = {};
      for (const [name, r] of this.routes) {
        const slot = sec % RING_SECONDS;
        if (r.stamp[slot] !== sec || r.requests[slot] === 0 || r.kept?.stamp[sec % this.keep] !== sec) continue;
        const hist = r.kept.hist[sec % this.keep];
        const h: number[] = [];
        for (let i = 0; i < hist.length; i++) if (hist[i] > 0) h.push(i, hist[i]);
        routes[name] = { n: r.requests[slot], e: r.errs[slot], h };
      }
      seconds.push({ t: sec, routes });
    }
    return { last, seconds };
  }

  /**
   * Write one finished second of a route counted elsewhere (a cluster primary's ring, merged
   * from its workers'): percentiles read from `hist`, the sum of the workers' histograms. A
   * second written already (a worker that answered late) gets the counts added; its
   * percentiles stay those of the histograms merged first.
   */
  put(route: string, sec: number, requests: number, errors: number, hist: ArrayLike<number>): void {
    let r = this.routes.get(route);
    if (!r) {
      if (this.routes.size >= RING_MAX_ROUTES) return;
      this.routes.set(route, (r = new RouteRing()));
    }
    const slot = ((sec % RING_SECONDS) + RING_SECONDS) % RING_SECONDS;
    if (r.stamp[slot] === sec) {
      r.requests[slot] += requests;
      r.errs[slot] += errors;
    } else {
      r.stamp[slot] = sec;
      r.requests[slot] = requests;
      r.errs[slot] = errors;
      r.p50[slot] = quantileOf(hist, requests, 0.5);
      r.p99[slot] = quantileOf(hist, requests, 0.99);
    }
    if (this.first === -1 || sec < this.first) this.first = sec;
  }

  /** Move a ring fed by {@link put} (not rolled by its timer) to `sec` as its last finished second, and tell the listeners. */
  advance(sec: number): void {
    if (sec <= this.last) return;
    this.last = sec;
    if (this.first === -1) this.first = sec;
    for (const cb of this.listeners) cb();
  }

  /** Call `cb` after each roll (the dashboard pushes the new second at once); returns the unsubscribe. */
  onRoll(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** The last finished second (Unix s), -1 before the first roll. */
  get lastSecond(): number {
    return this.last;
  }

  /** Route names sampled. */
  routeNames(): string[] {
    return [...this.routes.keys()];
  }

  /** One finished second of a route (zeros when nothing was counted then or it is out of the ring). */
  sample(route: string, sec: number): SecondSample {
    const r = this.routes.get(route);
    const slot = ((sec % RING_SECONDS) + RING_SECONDS) % RING_SECONDS;
    if (!r || r.stamp[slot] !== sec) return { t: sec, requests: 0, errors: 0, p50: 0, p99: 0 };
    return { t: sec, requests: r.requests[slot], errors: r.errs[slot], p50: r.p50[slot], p99: r.p99[slot] };
  }

  /** The last `seconds` finished seconds of every route (none before the first roll), oldest first, ending at the last roll. */
  series(seconds = RING_SECONDS): Record<string, RouteSeries> {
    const n = Math.min(RING_SECONDS, Math.max(0, seconds));
    const out: Record<string, RouteSeries> = {};
    for (const route of this.routes.keys()) {
      const s: RouteSeries = { t: [], requests: [], errors: [], p50: [], p99: [] };
      for (let sec = Math.max(this.first, this.last - n + 1); sec <= this.last; sec++) {
        const v = this.sample(route, sec);
        s.t.push(v.t);
        s.requests.push(v.requests);
        s.errors.push(v.errors);
        s.p50.push(round(v.p50));
        s.p99.push(round(v.p99));
      }
      out[route] = s;
    }
    return out;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
