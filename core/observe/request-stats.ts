import type { Registry } from 'prom-client';

/** Upper bounds (seconds) of the request duration histogram. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'OTHER'] as const;
const METHOD_INDEX = new Map<string, number>(METHODS.map((m, i) => [m, i]));

/** One (route, upstream) series of the duration histogram. */
interface DurationCell {
  readonly upstream: string;
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** Everything counted for one route name. */
interface RouteCells {
  /** Requests by `status * 8 + method index`. */
  readonly requests: Map<number, number>;
  readonly durations: Map<string, DurationCell>;
}

/** A sample in prom-client's exported shape. */
interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * Per-request counters kept in plain numbers and handed to prom-client at scrape time.
 * prom-client validates and hashes a label object on every `inc`/`observe`, which was the
 * largest single item of core's per-request cost (bench/README.md); here a request costs
 * two Map lookups and a few additions.
 */
export class RequestStats {
  private readonly routes = new Map<string, RouteCells>();

  /** Count one finished request and its duration. `method` outside the common ones counts as OTHER. */
  record(route: string, method: string, status: number, upstream: string, seconds: number): void {
    let cells = this.routes.get(route);
    if (!cells) this.routes.set(route, (cells = { requests: new Map(), durations: new Map() }));
    const key = status * 8 + (METHOD_INDEX.get(method) ?? 7);
    cells.requests.set(key, (cells.requests.get(key) ?? 0) + 1);
    let d = cells.durations.get(upstream);
    if (!d) cells.durations.set(upstream, (d = { upstream, counts: new Float64Array(DURATION_BUCKETS.length + 1), sum: 0, count: 0 }));
    let b = 0;
    while (b < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[b]) b++;
    d.counts[b]++;
    d.sum += seconds;
    d.count++;
  }

  /** Request counts as `[route, method, status, count]`. */
  *requestCounts(): Generator<[string, string, number, number]> {
    for (const [route, cells] of this.routes) {
      for (const [key, n] of cells.requests) yield [route, METHODS[key % 8], Math.floor(key / 8), n];
    }
  }

  /** The duration histogram in prom-client's exported form (cumulative buckets, sum, count). */
  durationSamples(name: string): Sample[] {
    const out: Sample[] = [];
    for (const [route, cells] of this.routes) {
      for (const d of cells.durations.values()) {
        const labels = { route, upstream: d.upstream };
        let acc = 0;
        DURATION_BUCKETS.forEach((le, i) => {
          acc += d.counts[i];
          out.push({ labels: { le, ...labels }, value: acc, metricName: `${name}_bucket` });
        });
        out.push({ labels: { le: '+Inf', ...labels }, value: d.count, metricName: `${name}_bucket` });
        out.push({ labels, value: d.sum, metricName: `${name}_sum` });
        out.push({ labels, value: d.count, metricName: `${name}_count` });
      }
    }
    return out;
  }
}

/**
 * A histogram metric read from {@link RequestStats} at scrape time, registered like any
 * prom-client metric (the registry reads metrics through `get()`).
 */
export class StatsHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly stats: RequestStats,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.stats.durationSamples(this.name),
      aggregator: this.aggregator,
    };
  }

  /** Counts live in RequestStats and are never reset (Prometheus counters only go up). */
  reset(): void {}
}
