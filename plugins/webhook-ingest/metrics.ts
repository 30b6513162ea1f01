import type { PluginMetrics } from '../../core/plugin-api';

/** Outcomes of a received webhook. */
export type ReceivedOutcome = 'accepted' | 'duplicate' | 'unverified' | 'invalid' | 'too_large' | 'store_failed';
/** Outcomes of one delivery attempt. */
export type DeliveryOutcome = 'delivered' | 'retry' | 'dead' | 'gone' | 'lost_lease';

/** The plugin's own series (queue depth and oldest age are core's gatehouse_store_queue_* for the instance's queue). */
export function webhookMetrics(metrics: PluginMetrics) {
  const received = metrics.counter({
    name: 'received_total',
    help: 'Webhooks received, by outcome (accepted, duplicate, unverified, invalid, too_large, store_failed)',
    labelNames: ['outcome'],
  });
  const deliveries = metrics.counter({
    name: 'deliveries_total',
    help: 'Delivery attempts by outcome (delivered, retry, dead, gone: dead on a 410, lost_lease)',
    labelNames: ['outcome'],
  });
  const latency = metrics.histogram({
    name: 'attempt_duration_seconds',
    help: 'Delivery attempts, from request to the end of the answer, by status class (2xx, 4xx, 5xx, error)',
    labelNames: ['class'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  const circuit = metrics.gauge({ name: 'circuit_open', help: '1 while the destination is paused after repeated failures' });
  circuit.set(0);
  return {
    received: (o: ReceivedOutcome) => received.inc({ outcome: o }),
    delivery: (o: DeliveryOutcome) => deliveries.inc({ outcome: o }),
    attempt: (cls: string, seconds: number) => latency.observe({ class: cls }, seconds),
    circuit: (open: boolean) => circuit.set(open ? 1 : 0),
  };
}

export type WebhookMetrics = ReturnType<typeof webhookMetrics>;
