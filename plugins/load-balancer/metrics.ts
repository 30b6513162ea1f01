import type { PluginMetrics } from '../../core/plugin-api';

const BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** The plugin's series, each labelled with the service. */
export function lbMetrics(metrics: PluginMetrics, service: string) {
  const tasks = metrics.counter({
    name: 'tasks_total',
    help: 'Tasks by what happened to them: submitted, then succeeded, failed, canceled (counted where it happened)',
    labelNames: ['service', 'state'],
  });
  const depth = metrics.gauge({ name: 'queue_depth', help: 'Tasks waiting for a worker', labelNames: ['service'] });
  const running = metrics.gauge({ name: 'tasks_running', help: 'Tasks on a worker now (all processes)', labelNames: ['service'] });
  const workers = metrics.gauge({
    name: 'workers',
    help: 'Worker targets by state (busy, idle, booting: not healthy yet)',
    labelNames: ['service', 'state'],
  });
  const wait = metrics.histogram({
    name: 'wait_seconds',
    help: 'From submission to the start of an attempt',
    labelNames: ['service'],
    buckets: BUCKETS,
  });
  const run = metrics.histogram({
    name: 'run_seconds',
    help: 'From the start of an attempt to its result, by final state',
    labelNames: ['service', 'state'],
    buckets: BUCKETS,
  });
  const delta = metrics.gauge({
    name: 'capacity_delta',
    help: 'Capacity advice: workers to add (positive) or remove (negative)',
    labelNames: ['service'],
  });
  delta.set({ service }, 0);
  return {
    submitted: () => tasks.inc({ service, state: 'submitted' }),
    canceled: () => tasks.inc({ service, state: 'canceled' }),
    finished: (state: string, seconds: number) => {
      tasks.inc({ service, state });
      run.observe({ service, state }, seconds);
    },
    waited: (seconds: number) => wait.observe({ service }, seconds),
    observe(q: { depth: number; running: number; busy: number; idle: number; booting: number }) {
      depth.set({ service }, q.depth);
      running.set({ service }, q.running);
      workers.set({ service, state: 'busy' }, q.busy);
      workers.set({ service, state: 'idle' }, q.idle);
      workers.set({ service, state: 'booting' }, q.booting);
    },
    capacity: (d: number) => delta.set({ service }, d),
  };
}

export type LbMetrics = ReturnType<typeof lbMetrics>;
