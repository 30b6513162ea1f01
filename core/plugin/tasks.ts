import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';
import { bounded } from './guard';
import type { LockStore } from '../store/types';

/** Options of `scope.task`. */
export interface TaskOptions {
  /** Run every this many ms (measured from the end of one run to the start of the next); absent: run once, as a loop of its own. */
  every?: number;
  /**
   * Run in one process at a time among all that share the store (`store:`): the process holding
   * the task's lock (`_core/task/<instance>/<name>`, renewed every few seconds) runs it; the others
   * wait and take over within {@link SINGLETON_LOCK_MS} when it stops or dies. The run is aborted
   * when a renewal fails and when the store says it can no longer vouch for the lock
   * (`Lock.lost`: Redis's connection closed). Declaring one opens the store at start.
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

/**
 * A singleton's lock lives this long unrenewed: how soon another process takes over from one
 * that died. It is renewed every third of it, and waiting processes try for it as often.
 */
export const SINGLETON_LOCK_MS = 10000;
const SINGLETON_RENEW_MS = SINGLETON_LOCK_MS / 3;
/** The abort reason of a run whose lock was lost. */
const LOCK_LOST = 'singleton lock lost';

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
  /** 1 while this process holds a singleton task's lock. */
  readonly leader: Gauge<'plugin' | 'instance' | 'task'>;
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
    /** The store's locks, when any task is a singleton. */
    private readonly locks?: LockStore,
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
    this.loops = this.tasks.map((t) => (t.options.singleton ? this.singleton(t, controller.signal) : this.loop(t, controller.signal)));
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

  /**
   * Run `t` only while holding its lock in the store: try for it every {@link SINGLETON_RENEW_MS},
   * renew it as often while running, abort the run when it is lost (another process took it
   * after a stall), and release it when stopped so that the next holder starts at once.
   */
  private async singleton(t: TaskSpec, signal: AbortSignal): Promise<void> {
    const locks = this.locks;
    if (!locks) throw new Error(`task ${t.name} is a singleton but the runner has no store locks`);
    const labels = { plugin: t.plugin, instance: t.instance, task: t.name };
    const name = `task/${t.instance}/${t.name}`;
    while (!signal.aborted) {
      let lock;
      try {
        lock = await locks.acquire(name, SINGLETON_LOCK_MS);
      } catch (err) {
        this.log.error({ err, ...labels }, `task ${t.name}: its singleton lock could not be taken; trying again`);
      }
      if (!lock) {
        await pause(SINGLETON_RENEW_MS, signal);
        continue;
      }
      const held = new AbortController();
      const stop = () => held.abort();
      signal.addEventListener('abort', stop);
      // The store cannot vouch for the lock any more (its connection closed): stop before
      // another process can take it, and wait to take it again.
      const lost = () => {
        this.log.warn(
          labels,
          `task ${t.name}: the store's connection closed while holding its singleton lock; the run is aborted and waits to take it again`,
        );
        held.abort(LOCK_LOST);
      };
      lock.lost?.addEventListener('abort', lost, { once: true });
      if (lock.lost?.aborted) lost();
      this.metrics.leader.set(labels, 1);
      const renewal = this.renewEvery(lock, held, labels, t.name);
      try {
        await this.loop(t, held.signal);
      } finally {
        signal.removeEventListener('abort', stop);
        lock.lost?.removeEventListener('abort', lost);
        held.abort();
        await renewal;
        this.metrics.leader.set(labels, 0);
        await lock
          .release()
          .catch((err: unknown) => this.log.warn({ err, ...labels }, `task ${t.name}: its singleton lock could not be released`));
      }
      // A one-off run that ended by itself is done; one aborted by a lost lock waits for it again.
      if (held.signal.reason !== LOCK_LOST || signal.aborted) return;
    }
  }

  /** Renew `lock` until `held` aborts; a renewal that fails aborts `held` with a reason. */
  private async renewEvery(
    lock: { renew(ms?: number): Promise<boolean> },
    held: AbortController,
    labels: Record<string, string>,
    task: string,
  ): Promise<void> {
    while (!held.signal.aborted) {
      await pause(SINGLETON_RENEW_MS, held.signal);
      if (held.signal.aborted) return;
      const kept = await lock.renew(SINGLETON_LOCK_MS).catch((err: unknown) => {
        this.log.error({ err, ...labels }, `task ${task}: its singleton lock could not be renewed`);
        return false;
      });
      if (!kept) {
        this.log.warn(labels, `task ${task}: lost its singleton lock; the run is aborted and waits to take it again`);
        held.abort(LOCK_LOST);
      }
    }
  }
}
