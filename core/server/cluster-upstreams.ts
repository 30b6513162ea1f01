/** A target as `GET /upstreams` shows it (core/server/admin.ts), the fields merged here. */
interface TargetState {
  url: string;
  healthy: boolean;
  ejected: boolean;
  ejectedUntil: string | null;
  inflight: number;
  ejections: number;
  retries: number;
  picks: number;
  latencyEwmaMs: number;
  openSockets: number;
  [more: string]: unknown;
}

/** An upstream as `GET /upstreams` shows it. */
interface UpstreamState {
  queued: number;
  panic: boolean;
  openSockets: number;
  targets: TargetState[];
  [more: string]: unknown;
}

/** A target merged across workers: the fields of one, plus which workers see it down or ejected. */
export interface MergedTarget extends TargetState {
  /** Ids of the workers whose health checks say unhealthy. */
  unhealthyIn: number[];
  /** Ids of the workers that have it ejected (passive outlier detection, per worker). */
  ejectedIn: number[];
}

/** An upstream merged across workers. */
interface MergedUpstream {
  queued: number;
  panic: boolean;
  openSockets: number;
  targets: MergedTarget[];
  [more: string]: unknown;
}

const SUMMED = ['inflight', 'ejections', 'retries', 'picks', 'openSockets'] as const;

/**
 * Every upstream as the workers see it, from each worker's `GET /upstreams` answer (per worker
 * id): one entry per upstream and target, in the single process's shape, so the dashboard
 * shows it alike. The rule, the same as `/metrics`' `gatehouse_upstream_target_healthy`
 * (aggregator `min`): a target is **healthy only when every worker that answered sees it
 * healthy, and ejected when any worker has it ejected** (each worker runs its own checks and
 * ejections; a target one worker cannot reach is a problem worth showing), with the ids of the
 * workers that see it down in `unhealthyIn` / `ejectedIn`. Counts that add up across processes
 * are summed (in flight, ejections, retries, picks, open sockets, queued); the latency EWMA is
 * the worst worker's (a sum of latencies means nothing); `panic` when any worker is in it;
 * `ejectedUntil` the latest. Settings (balance, timeout, weights, limits) are the same in
 * every worker and taken from the first.
 */
export function mergeUpstreams(answers: readonly [worker: number, state: Record<string, unknown>][]): Record<string, unknown> {
  const out: Record<string, MergedUpstream> = {};
  for (const [worker, state] of answers) {
    for (const [name, raw] of Object.entries(state)) {
      const u = raw as UpstreamState;
      let m = out[name];
      if (!m) {
        m = out[name] = { ...u, queued: 0, openSockets: 0, panic: false, targets: [] as MergedTarget[] };
      }
      m.queued += u.queued;
      m.openSockets += u.openSockets;
      m.panic ||= u.panic;
      for (const t of u.targets) {
        let mt = m.targets.find((x) => x.url === t.url);
        if (!mt) {
          mt = { ...t, healthy: true, ejected: false, ejectedUntil: null, latencyEwmaMs: 0, unhealthyIn: [], ejectedIn: [] };
          for (const k of SUMMED) mt[k] = 0;
          m.targets.push(mt);
        }
        for (const k of SUMMED) mt[k] += t[k];
        mt.latencyEwmaMs = Math.max(mt.latencyEwmaMs, t.latencyEwmaMs);
        if (!t.healthy) {
          mt.healthy = false;
          mt.unhealthyIn.push(worker);
        }
        if (t.ejected) {
          mt.ejected = true;
          mt.ejectedIn.push(worker);
          if (t.ejectedUntil && (!mt.ejectedUntil || t.ejectedUntil > mt.ejectedUntil)) mt.ejectedUntil = t.ejectedUntil;
        }
      }
    }
  }
  return out;
}
