import { definePlugin, type StateStore } from '../../core/plugin-api';
import { adminRoutes, type CapacityReport } from './admin';
import { publicApi } from './api';
import { advise } from './capacity';
import { errors } from './errors';
import { ServiceTime } from './estimate';
import { lbMetrics } from './metrics';
import { TaskPoster } from './post';
import { PushDispatcher } from './push';
import { TaskRecords } from './records';
import { schema, type LoadBalancerOptions } from './schema';
import { TaskService } from './service';
import { Slots } from './slots';
import { sweepEvery, sweepTimeouts } from './timeouts';
import { validateOptions } from './validate';
import { WorkerApi } from './worker-api';

/** How often the gauges (queue depth, workers) are refreshed at most. */
const GAUGE_MS = 5000;

/**
 * `load-balancer`: the CRIM Service Gateway. Tasks are stored (kv record + queue item) before
 * their uuid is answered, dispatched to workers within each target's limit (pushed, or claimed
 * by pulling workers), followed through progress to a result kept resultTtlMs; capacity advice
 * says how many workers to add or remove.
 */
export default definePlugin<LoadBalancerOptions>({
  name: 'load-balancer',
  schema,
  errors,
  validate: validateOptions,
  create(options, scope) {
    const storeRef = scope.store;
    const store = (): StateStore => storeRef;
    const metrics = lbMetrics(scope.metrics, options.service);
    const records = new TaskRecords(store, options);
    const time = new ServiceTime();
    const poster = new TaskPoster(options.taskTimeoutMs);
    const slots = new Slots(() => store().locks, options.heartbeatMs);
    const finished = (ms: number) => time.add(ms);
    let push: PushDispatcher | undefined;
    let workers: WorkerApi | undefined;
    const service = new TaskService({
      options,
      store,
      records,
      upstreams: scope.upstreams,
      metrics,
      time,
      submitted: () => (push ? push.nudge() : workers?.nudge()),
      canceled: (id) => push?.cancel(id),
    });
    workers = new WorkerApi(service, metrics, finished);
    if (options.dispatch === 'push') {
      push = new PushDispatcher({
        options,
        store,
        records,
        upstreams: scope.upstreams,
        slots,
        poster,
        metrics,
        logger: scope.logger,
        finished,
        inflight: (work) => scope.inflight(work),
      });
      const dispatcher = push;
      scope.task('dispatch', (signal) => dispatcher.run(signal));
    } else
      // Push times a task out with its POST; a pulled task's worker may keep its heartbeat past the timeout.
      scope.task('timeouts', () => sweepTimeouts(store, records, metrics), { every: sweepEvery(options.heartbeatMs) });

    let report: CapacityReport = { at: null, inputs: null, advice: null };
    const evaluate = async (): Promise<CapacityReport> => {
      const inputs = await service.inputs();
      metrics.observe(inputs);
      const now = Date.now();
      if (report.at === null || now - report.at >= options.capacity.intervalMs - 10) {
        const advice = advise(inputs, options.capacity, report.advice ?? undefined);
        metrics.capacity(advice.delta);
        report = { at: now, inputs, advice };
      } else report = { ...report, inputs };
      return report;
    };
    scope.task('observe', () => evaluate(), { every: Math.min(GAUGE_MS, options.capacity.intervalMs) });
    for (const route of adminRoutes(service, () => report, evaluate)) scope.admin(route);

    return {
      handle: publicApi(service, workers, options.service),
      stop() {
        poster.close();
      },
    };
  },
});
