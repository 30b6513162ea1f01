import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import type { ClusterPrimary } from './cluster-primary';

/**
 * The cluster's metrics as one registry: the primary's own and every running worker's,
 * aggregated by prom-client's AggregatorRegistry (counters summed, gauges by each metric's
 * `aggregator`). A worker that cannot answer within `askMs` (it just died) is left out, and
 * logged, rather than failing the whole read.
 */
export async function clusterMetrics(p: ClusterPrimary, askMs: number): Promise<Registry> {
  const own = await p.gw.metrics.registry.getMetricsAsJSON();
  const answers = await p.askAll('metrics', askMs);
  const failed = answers.filter(([, r]) => !r.ok);
  if (failed.length > 0) p.gw.logger.warn({ workers: failed.map(([id]) => id) }, 'metrics: workers did not answer; left out of this read');
  const all = [own, ...answers.flatMap(([, r]) => (r.ok ? [r.value as MetricObjectWithValues<MetricValue<string>>[]] : []))];
  return AggregatorRegistry.aggregate(all);
}
