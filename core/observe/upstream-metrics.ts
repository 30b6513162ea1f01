import { Counter, Gauge, type Registry } from 'prom-client';
import type { UpstreamRegistry } from '../upstream/registry';
import type { Target } from '../upstream/target';

type Labels = 'upstream' | 'target';

/**
 * Per-target series of the live upstreams, read from the registry at scrape time (nothing
 * is counted per request besides the targets' own fields): in flight, health, ejections,
 * retries, picks and the latency EWMA, and the requests each upstream's queue holds.
 */
export function registerUpstreamMetrics(registry: Registry, upstreams: UpstreamRegistry): void {
  const registers = [registry];
  const perTarget = (read: (t: Target, now: number) => number) =>
    function collect(this: Gauge<Labels> | Counter<Labels>): void {
      this.reset();
      const now = Date.now();
      for (const [name, pool] of upstreams.pools)
        for (const t of pool.targets) {
          const v = read(t, now);
          if (this instanceof Gauge) this.set({ upstream: name, target: t.key }, v);
          else if (v > 0) this.inc({ upstream: name, target: t.key }, v);
        }
    };
  const labelNames = ['upstream', 'target'] as const;
  new Gauge({
    name: 'gatehouse_upstream_target_inflight',
    help: 'Requests in flight on each target',
    labelNames,
    registers,
    collect: perTarget((t) => t.active),
  });
  new Gauge({
    name: 'gatehouse_upstream_target_healthy',
    help: 'Whether the target takes new requests as far as health goes (1), or is unhealthy or ejected (0)',
    labelNames,
    registers,
    // Across a cluster's workers (each checks and ejects on its own): healthy only where all say so.
    aggregator: 'min',
    collect: perTarget((t, now) => (t.healthy && !t.ejected(now) ? 1 : 0)),
  });
  new Gauge({
    name: 'gatehouse_upstream_target_latency_ewma_seconds',
    help: 'Latency EWMA of each target (what p2c-ewma weighs)',
    labelNames,
    registers,
    // Across a cluster's workers: the worst one's view (a sum of latencies means nothing).
    aggregator: 'max',
    collect: perTarget((t) => t.ewmaMs / 1000),
  });
  new Counter({
    name: 'gatehouse_upstream_target_picks_total',
    help: 'Requests sent to each target (first tries and retries)',
    labelNames,
    registers,
    collect: perTarget((t) => t.picks),
  });
  new Counter({
    name: 'gatehouse_upstream_target_ejections_total',
    help: 'Times outlier detection ejected each target',
    labelNames,
    registers,
    collect: perTarget((t) => t.ejectedTotal),
  });
  new Counter({
    name: 'gatehouse_upstream_target_retries_total',
    help: 'Requests retried on another target after failing on this one',
    labelNames,
    registers,
    collect: perTarget((t) => t.retries),
  });
  new Gauge({
    name: 'gatehouse_upstream_queued_requests',
    help: 'Requests waiting in each upstream queue for a target slot',
    labelNames: ['upstream'],
    registers,
    collect() {
      this.reset();
      for (const [name, pool] of upstreams.pools) this.set({ upstream: name }, pool.queued());
    },
  });
}
