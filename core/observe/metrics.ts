import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { gcRequested } from '../tuning/young-gc';
import { RequestStats, StatsHistogram } from './request-stats';
import { pluginMetrics, type PluginMetrics } from './plugin-metrics';
import { SampleRing } from './sample-ring';

export type { PluginMetrics } from './plugin-metrics';
import type { TaskMetrics } from '../plugin/tasks';

/** Core metrics of one gateway, in a registry of its own (several gateways can share a process). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly duration: StatsHistogram;
  readonly upstreamErrors: Counter<'upstream' | 'kind'>;
  readonly openSockets: Gauge<'upstream'>;
  readonly inflight: Gauge;
  readonly reloads: Counter<'result'>;
  /** Plugin calls that threw, rejected or timed out, by plugin name and hook. */
  readonly pluginErrors: Counter<'plugin' | 'hook' | 'instance'>;
  /** Plugins' background tasks (scope.task). */
  readonly tasks: TaskMetrics;
  /** Requests being handled now (read by the in-flight gauge at scrape time). */
  inflightNow = 0;
  private readonly stats = new RequestStats();
  /** Per-second samples of the last 15 minutes per route, for the dashboard (rolled while the admin listener is up). */
  readonly samples = new SampleRing();

  /**
   * @param opts.openSockets read at scrape time: open sockets per upstream name.
   */
  constructor(opts: { defaultMetrics?: boolean; openSockets?: () => Iterable<[string, number]> } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' });
    // Per-request series are counted in RequestStats and copied into prom-client when scraped.
    const stats = this.stats;
    this.requests = new Counter({
      name: 'gatehouse_requests_total',
      help: 'Requests by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
      collect() {
        this.reset();
        for (const [route, method, status, n] of stats.requestCounts()) this.inc({ route, method, status: String(status) }, n);
      },
    });
    this.duration = new StatsHistogram(
      'gatehouse_request_duration_seconds',
      'Time from request to the end of the response',
      stats,
      this.registry,
    );
    this.upstreamErrors = new Counter({
      name: 'gatehouse_upstream_errors_total',
      help: 'Upstream failures by kind (connect, timeout, reset)',
      labelNames: ['upstream', 'kind'],
      registers,
    });
    const read = opts.openSockets;
    this.openSockets = new Gauge({
      name: 'gatehouse_upstream_open_sockets',
      help: 'Sockets currently open to each upstream (in use and idle)',
      labelNames: ['upstream'],
      registers,
      collect() {
        if (!read) return;
        this.reset();
        for (const [upstream, n] of read()) this.set({ upstream }, n);
      },
    });
    // prom-client calls collect() with the metric as `this`; the gateway's count is read through `self`.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.inflight = new Gauge({
      name: 'gatehouse_inflight_requests',
      help: 'Requests being handled now',
      registers,
      collect() {
        this.set(self.inflightNow);
      },
    });
    new Counter({
      name: 'gatehouse_body_gc_total',
      help: 'Young-generation collections run after each server.tuning.gcEveryMiB of relayed body',
      registers,
      collect() {
        this.reset();
        this.inc(gcRequested());
      },
    });
    this.reloads = new Counter({
      name: 'gatehouse_config_reloads_total',
      help: 'Config reloads by result',
      labelNames: ['result'],
      registers,
      // Across a cluster every process counts the same reloads (the primary's and each worker's): the
      // highest count is the number of reloads, where a sum would count each one 1 + workers times.
      aggregator: 'max',
    });
    this.pluginErrors = new Counter({
      name: 'gatehouse_plugin_errors_total',
      help: 'Plugin calls that failed (threw, rejected or timed out) by plugin, hook and plugin instance',
      labelNames: ['plugin', 'hook', 'instance'],
      registers,
    });
    this.tasks = {
      running: new Gauge({
        name: 'gatehouse_plugin_tasks_running',
        help: 'Background task runs under way, by plugin instance and task',
        labelNames: ['plugin', 'instance', 'task'],
        registers,
      }),
      runs: new Counter({
        name: 'gatehouse_plugin_task_runs_total',
        help: 'Background task runs that ended, by plugin instance, task and result (ok, failed)',
        labelNames: ['plugin', 'instance', 'task', 'result'],
        registers,
      }),
      errors: this.pluginErrors,
      leader: new Gauge({
        name: 'gatehouse_plugin_task_leader',
        help: 'Singleton background tasks: 1 while this process holds the task (its lock in the store), by plugin instance and task',
        labelNames: ['plugin', 'instance', 'task'],
        registers,
      }),
    };
  }

  /** Count one finished request and observe its duration (method: one of the common ones, else OTHER). */
  countRequest(route: string, method: string, status: number, upstream: string, seconds: number): void {
    this.stats.record(route, method, status, upstream, seconds);
    this.samples.record(route, status, seconds);
  }

  /** A prefixed factory for one plugin instance (core/observe/plugin-metrics.ts). */
  forPlugin(pluginName: string, instance: string): PluginMetrics {
    return pluginMetrics(this.registry, pluginName, instance);
  }
}
