import { HIST_BUCKETS, SampleRing, type FinishedSeconds } from '../observe/sample-ring';
import type { ClusterView, WorkerView } from '../ui/snapshot';
import type { Registry } from 'prom-client';
import { ask } from './cluster-ipc';
import { clusterMetrics } from './cluster-metrics';
import type { ClusterPrimary } from './cluster-primary';
import { mergeUpstreams } from './cluster-upstreams';

/** How often the primary collects its workers' finished seconds. */
const ROUND_MS = 1000;
/** Under the round, so that rounds never overlap: a worker slower than this is missing for that round. */
const SAMPLES_ASK_MS = 900;
/** How long a dashboard snapshot waits for the workers' upstreams (and metrics). */
const UPSTREAMS_ASK_MS = 2000;

/** What the primary has collected from one worker (by cluster worker id). */
interface Tally {
  requests: number;
  errors: number;
  /** The last second collected from it: the next round asks for the seconds after. */
  since: number;
  /** Why its last answer (samples or upstreams) did not come. */
  missing?: string;
}

/** One (second, route) being merged: counts summed, histograms added bucket by bucket. */
interface Cell {
  n: number;
  e: number;
  hist: Uint32Array;
}

/** `read`, run at most once per `ms`: the calls in between share its last promise. */
function atMostEvery<T>(ms: number, clock: () => number, read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = clock();
    if (!last || now - last.at >= ms) last = { at: now, value: read() };
    return last.value;
  };
}

/**
 * The dashboard's data under `server.workers` above 1, in the primary (which serves no requests,
 * so its own ring stays empty). Once a second it asks every running worker over IPC for the
 * seconds it finished since the last answer (`samples`: per route requests, 5xx and the latency
 * histogram of each second) and merges them into {@link samples}, the ring the dashboard's
 * event stream reads: **requests and errors are summed, and p50/p99 are read from the sum of
 * the workers' histograms** (the ring's √2 buckets), not averaged from each worker's
 * percentiles, so a second's p99 is the service's. A worker that does not answer within
 * {@link SAMPLES_ASK_MS} is reported missing and not waited for; its seconds come with its next
 * answer (workers keep 30 s of histograms), adding their counts to seconds already shown, whose
 * percentiles stay those of the workers that answered in time. Upstreams are asked on demand,
 * at most once a second however many dashboards are open, and merged by {@link mergeUpstreams};
 * so are the metrics of the plugins page (aggregated as `/metrics` aggregates them).
 */
export class ClusterDashboard implements ClusterView {
  readonly samples = new SampleRing();
  private readonly tallies = new Map<number, Tally>();
  private timer?: NodeJS.Timeout;
  private busy = false;
  /** The workers' upstreams, merged; asked at most once a round however many dashboards are open. */
  readonly upstreams: () => Promise<unknown>;
  /** Every worker's metrics aggregated (the plugins page's series), read at most once a round. */
  readonly metrics: () => Promise<Registry>;

  constructor(
    private readonly primary: ClusterPrimary,
    private readonly clock: () => number = Date.now,
  ) {
    this.upstreams = atMostEvery(ROUND_MS, clock, () => this.askUpstreams());
    this.metrics = atMostEvery(ROUND_MS, clock, () => clusterMetrics(primary, UPSTREAMS_ASK_MS));
  }

  /** Collect once a second until {@link stop} (the timer does not hold the process open). */
  start(): void {
    this.timer ??= setInterval(() => void this.round(), ROUND_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The tally of a running worker; those of workers gone are dropped (a replacement has a new id). */
  private tallyOf(id: number): Tally {
    let t = this.tallies.get(id);
    if (!t) this.tallies.set(id, (t = { requests: 0, errors: 0, since: -1 }));
    return t;
  }

  /** One collection: every running worker's seconds up to the one before now, merged into the ring. */
  async round(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const upTo = Math.floor(this.clock() / 1000) - 1;
      const live = this.primary.live();
      for (const id of this.tallies.keys()) if (!live.some((w) => w.id === id)) this.tallies.delete(id);
      const answers = await Promise.all(
        live.map(async (w) => {
          const tally = this.tallyOf(w.id);
          try {
            const got = (await ask(w, 'samples', SAMPLES_ASK_MS, { since: tally.since, upTo })) as FinishedSeconds;
            tally.missing = undefined;
            return { tally, got };
          } catch (err) {
            tally.missing = (err as Error).message;
            return { tally, got: undefined };
          }
        }),
      );
      const bySecond = new Map<number, Map<string, Cell>>();
      for (const { tally, got } of answers) {
        if (!got) continue;
        for (const s of got.seconds) {
          let routes = bySecond.get(s.t);
          if (!routes) bySecond.set(s.t, (routes = new Map()));
          for (const [route, c] of Object.entries(s.routes)) {
            let cell = routes.get(route);
            if (!cell) routes.set(route, (cell = { n: 0, e: 0, hist: new Uint32Array(HIST_BUCKETS) }));
            cell.n += c.n;
            cell.e += c.e;
            for (let i = 0; i + 1 < c.h.length; i += 2) if (c.h[i] < HIST_BUCKETS) cell.hist[c.h[i]] += c.h[i + 1];
            tally.requests += c.n;
            tally.errors += c.e;
          }
        }
        tally.since = Math.max(tally.since, got.last);
      }
      for (const sec of [...bySecond.keys()].sort((a, b) => a - b))
        for (const [route, c] of bySecond.get(sec)!) this.samples.put(route, sec, c.n, c.e, c.hist);
      this.samples.advance(upTo);
    } finally {
      this.busy = false;
    }
  }

  private async askUpstreams(): Promise<unknown> {
    const answers = await this.primary.askAll('upstreams', UPSTREAMS_ASK_MS);
    const ok: [number, Record<string, unknown>][] = [];
    for (const [id, r] of answers) {
      if (r.ok) ok.push([id, r.value as Record<string, unknown>]);
      else this.tallyOf(id).missing = r.error;
    }
    return mergeUpstreams(ok);
  }

  workers(): WorkerView[] {
    return this.primary.slots.map((s) => {
      const id = s.state === 'running' ? s.worker?.id : undefined;
      const t = id !== undefined ? this.tallies.get(id) : undefined;
      return {
        slot: s.index,
        state: s.state,
        worker: id ?? null,
        requests: t?.requests ?? 0,
        errors: t?.errors ?? 0,
        ...(t?.missing ? { missing: t.missing } : {}),
      };
    });
  }
}
