import { Counter, Gauge, type Registry } from 'prom-client';
import type { ServiceRegistry } from './registry';

/** The registry's metrics: entries by status (read from the store at scrape time) and operations by outcome. */
export function registryMetrics(registry: ServiceRegistry, prom: Registry): void {
  const ops = new Counter({
    name: 'gatehouse_registry_operations_total',
    help: 'Service registry operations (put, get, list, delete, heartbeat, deregister) by outcome (ok, not-found, invalid, conflict)',
    labelNames: ['op', 'outcome'],
    registers: [prom],
  });
  registry.countWith((op, outcome) => ops.inc({ op, outcome }));
  new Gauge({
    name: 'gatehouse_registry_entries',
    help: 'Service registry entries by status (passing, critical)',
    labelNames: ['status'],
    registers: [prom],
    // Read from the shared store: every process of a cluster reports the same counts.
    aggregator: 'max',
    async collect() {
      const counts = { passing: 0, critical: 0 };
      for await (const s of registry.entries('')) counts[s.status]++;
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
}
