import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';
import { bounded } from './guard';

/** Options of `scope.task`. */
export interface TaskOptions {
  /** Run every this many ms (measured from the end of one run to the start of the next); absent: run once, as a loop of its own. */
  every?: number;
  /**
   * Run once across all processes that share the store, not once per process. Until the store
   * (core/store) hands out leases, processes do not coordinate: a singleton runs once per process.
   */
  singleton?: boolean;
}

/** A task as a plugin declared it in `create`. */
export interface TaskSpec {
  readonly plugin: string;
  readonly instance: string;
  readonly name: string;
  readonly run: (signal: AbortSignal) => unknown;
  readonly options: TaskOptions;
}

/** A failed run is retried after this long, doubling up to {@link MAX_BACKOFF_MS}. */
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30000;

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** Metrics of the tasks of all generations. */
export interface TaskMetrics {
  readonly running: Gauge<'plugin' | 'instance' | 'task'>;
  readonly runs: Counter<'plugin' | 'instance' | 'task' | 'result'>;
  /** `gatehouse_plugin_errors_total`, hook `task`. */
  readonly errors: Counter<'plugin' | 'hook' | 'instance'>;
}

/**
 * The background tasks of one config generation. `start` runs each (after every plugin has
 * started); `stop` aborts them and waits for them to settle, so that a reload never has two
 * generations' loops running at once. A run that throws is logged, counted and, after a backoff,
 * run again; a periodic task runs again after `every` ms; a one-off task that returns is done.
 */
export class TaskRunner {
  private controller?: AbortController;
  private loops: Promise<void>[] = [];
  /** Loops of earlier runs that were aborted and did not settle in time. */
  private unsettled = 0;

  constructor(
    private readonly tasks: readonly TaskSpec[],
    private readonly log: Logger,
    private readonly metrics: TaskMetrics,
  ) {}

  /** Start every task (again, after a `stop`); a no-op while running. */
  start(): void {
    if (this.controller || this.tasks.length === 0) return;
    // Loops an earlier stop could not settle are still running: say so, since the task's
    // promise of one run at a time is broken until they end.
    if (this.unsettled > 0)
      this.log.error(
        { tasks: this.tasks.map((t) => `${t.instance}/${t.name}`), unsettled: this.unsettled },
        'starting background tasks while runs aborted earlier have not settled',
      );
    const controller = new AbortController();
    this.controller = controller;
    this.loops = this.tasks.map((t) => this.loop(t, controller.signal));
  }

  /** Abort every task and wait up to `timeoutMs` for all to settle; true when they did. */
  async stop(timeoutMs: number): Promise<boolean> {
    const controller = this.controller;
    if (!controller) return this.unsettled === 0;
    this.controller = undefined;
    controller.abort();
    const loops = this.loops;
    const settled = await bounded(() => Promise.all(loops), timeoutMs);
    if (!settled) {
      this.unsettled += loops.length;
      void Promise.all(loops).then(() => (this.unsettled -= loops.length));
      this.log.error(
        { tasks: this.tasks.map((t) => `${t.instance}/${t.name}`), timeoutMs },
        'background tasks did not settle within server.pluginTimeout after being aborted',
      );
    }
    return settled;
  }

  private async loop(t: TaskSpec, signal: AbortSignal): Promise<void> {
    const labels = { plugin: t.plugin, instance: t.instance, task: t.name };
    let backoff = FIRST_BACKOFF_MS;
    while (!signal.aborted) {
      this.metrics.running.inc(labels);
      let failed = false;
      try {
        await t.run(signal);
        this.metrics.runs.inc({ ...labels, result: 'ok' });
        backoff = FIRST_BACKOFF_MS;
      } catch (err) {
        failed = true;
        if (!signal.aborted) {
          this.metrics.runs.inc({ ...labels, result: 'failed' });
          this.metrics.errors.inc({ plugin: t.plugin, hook: 'task', instance: t.instance });
          this.log.error({ err, plugin: t.plugin, instance: t.instance, task: t.name, retryInMs: backoff }, `task ${t.name} failed`);
        }
      } finally {
        this.metrics.running.dec(labels);
      }
      if (failed) {
        await pause(backoff, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      } else if (t.options.every !== undefined) await pause(t.options.every, signal);
      else return;
    }
  }
}
