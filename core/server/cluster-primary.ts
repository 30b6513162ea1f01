import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge } from 'prom-client';
import type { LoadedConfig } from '../config/load';
import { clusterAdminRoutes } from './cluster-admin';
import { ClusterDashboard } from './cluster-dashboard';
import { rehandOnDeath } from './cluster-handoff';
import { ask, isClusterMessage, type WorkerQuestion } from './cluster-ipc';
import { gatewayFrom, type Gateway, type GatewayOptions } from './gateway';
import { SLOT_STATES, WorkerSlot } from './worker-slot';

/** Slack beyond shutdownGrace + pluginTimeout before a worker that has not exited is SIGKILLed. */
const EXIT_SLACK_MS = 5000;

/** A worker's first outcome: listening, or the reason it never did. */
type Started = { ok: true; addresses: { http?: AddressInfo; https?: AddressInfo } } | { ok: false; message: string };

/** Per worker id: what a reload did there. */
export type ReloadReport = Record<string, { status: 'reloaded' } | { status: 'failed'; error: string }>;

/**
 * The process `gatehouse start` runs when `server.workers` is above 1: a node:cluster primary.
 * It validates the config (by building a Gateway of its own in admin-only mode: plugins created
 * and started, for /config, /routes and plugin and registry admin routes, but no proxy listener,
 * no tasks, no health checks; docs/workers.md says why), forks the workers, which share the
 * proxy ports, replaces a crashed one with backoff and leaves a crash-looping slot stopped. It
 * alone has the admin listener, whose /metrics, /readyz, /upstreams and /reload (and the
 * dashboard at /ui, core/server/cluster-dashboard.ts) speak for the workers, and it passes SIGHUP (after validating once), SIGUSR1 and SIGTERM/SIGINT on.
 */
export class ClusterPrimary {
  gw!: Gateway;
  readonly slots: WorkerSlot[];
  stopping = false;
  /** Set once every first worker listened: from then on an exit is a crash to recover from. */
  private serving = false;
  private readonly restarts: Counter;
  private reloading: Promise<unknown> = Promise.resolve();
  /** What the dashboard at /ui shows: the workers' samples and upstreams, collected once a second. */
  private readonly dashboard = new ClusterDashboard(this);

  constructor(
    private readonly loaded: LoadedConfig,
    count: number,
    private readonly options: GatewayOptions,
  ) {
    this.slots = Array.from({ length: count }, (_, i) => new WorkerSlot(i + 1, loaded.config.server.workerRestarts));
    this.restarts = new Counter({
      name: 'gatehouse_worker_restarts_total',
      help: 'Crashed workers replaced by the primary',
      registers: [],
    });
  }

  private get log() {
    return this.gw.logger;
  }

  /** Run until stopped; resolves with the exit code. A start that fails throws or reports through `out`. */
  async run(out: { error(s: string): void }): Promise<number> {
    // Round robin in the primary, as on Linux by default, but not left to NODE_CLUSTER_SCHED_POLICY
    // or the platform: with SCHED_NONE the kernel wakes whichever worker, and one takes most.
    cluster.schedulingPolicy = cluster.SCHED_RR;
    this.gw = await gatewayFrom(this.loaded, {
      ...this.options,
      cluster: { adminOnly: true, adminRoutes: clusterAdminRoutes(this), dashboard: this.dashboard },
    });
    this.registerMetrics();
    cluster.on('exit', (w, code, signal) => this.exited(w, code, signal));
    const outcomes = await Promise.all(this.slots.map((s) => this.fork(s)));
    const failed = outcomes.find((o): o is Extract<Started, { ok: false }> => !o.ok);
    if (failed) {
      // Every worker fails alike (the same config, the same port): one message, not N.
      out.error(failed.message);
      await this.stopWorkers();
      await this.gw.close(0);
      return 1;
    }
    const first = outcomes[0] as Extract<Started, { ok: true }>;
    if (first.addresses.http) this.gw.addresses.http = first.addresses.http;
    if (first.addresses.https) this.gw.addresses.https = first.addresses.https;
    try {
      await this.gw.listen();
    } catch (err) {
      await this.stopWorkers();
      throw err;
    }
    this.serving = true;
    if (this.loaded.config.admin) this.dashboard.start();
    this.log.info({ workers: this.slots.map((s) => s.worker?.id) }, `${this.slots.length} workers serving`);
    process.on('SIGHUP', () => void this.reload().catch(() => undefined));
    process.on('SIGUSR1', () => {
      this.gw.reopenLogs();
      void this.askAll('reopen', 5000);
    });
    return new Promise((resolveExit) => {
      const stop = (signal: string) => {
        this.log.info({ signal }, 'shutting down');
        void this.shutdown().then(
          () => resolveExit(0),
          () => resolveExit(1),
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  }

  private registerMetrics(): void {
    const registers = [this.gw.metrics.registry];
    registers[0].registerMetric(this.restarts);
    const slots = this.slots;
    new Gauge({
      name: 'gatehouse_workers',
      help: 'Worker slots by state (starting, running, restarting: waiting out its backoff, stopped: after a crash loop)',
      labelNames: ['state'],
      registers,
      collect() {
        for (const state of SLOT_STATES) this.set({ state }, slots.filter((s) => s.state === state).length);
      },
    });
  }

  /** Start a worker in `slot`; resolves when it listens or when it could not. */
  private fork(slot: WorkerSlot): Promise<Started> {
    slot.state = 'starting';
    slot.timer = undefined;
    const w = cluster.fork();
    slot.worker = w;
    rehandOnDeath(
      w,
      () => this.live(),
      (n, to) =>
        this.log.warn(
          { workerId: w.id, connections: n, to },
          to ? 'connections handed to a dead worker passed to another' : 'connections handed to a dead worker closed',
        ),
    );
    return new Promise<Started>((resolve) => {
      let failure: string | undefined;
      w.on('message', (m: unknown) => {
        if (!isClusterMessage(m)) return;
        if (m.gh === 'failed') failure = m.message;
        else if (m.gh === 'listening') {
          slot.state = 'running';
          this.gw?.logger.info({ workerId: w.id, slot: slot.index, pid: w.process.pid }, 'worker started');
          resolve({ ok: true, addresses: m.addresses });
        }
      });
      w.once('exit', (code, signal) => {
        slot.lastFailure = failure;
        resolve({ ok: false, message: failure ?? `GH_ERR_INTERNAL: worker ${w.id} exited (${signal ?? `code ${code}`}) before listening` });
      });
    });
  }

  /** A worker exited: replaced after a backoff, unless the primary is stopping or the slot is in a crash loop. */
  private exited(w: Worker, code: number | null, signal: string | null): void {
    const slot = this.slots.find((s) => s.worker === w);
    if (!slot) return;
    slot.worker = undefined;
    // A first start that failed is run()'s to report (it stops the rest and exits 1).
    if (this.stopping || (!this.serving && slot.state === 'starting')) return;
    const how = signal ?? `code ${code}`;
    const delay = slot.crashed(Date.now());
    const fields = { workerId: w.id, slot: slot.index, exit: how, failure: slot.lastFailure };
    if (delay === undefined) {
      const { max, windowMs } = this.loaded.config.server.workerRestarts;
      slot.state = 'stopped';
      slot.stoppedWhy = `worker slot ${slot.index} crashed ${slot.recentCrashes} times within ${windowMs} ms (more than server.workerRestarts.max ${max}); not restarted (last: ${how}${slot.lastFailure ? `, ${slot.lastFailure}` : ''})`;
      this.log.error(fields, slot.stoppedWhy);
      return;
    }
    slot.state = 'restarting';
    this.log.error({ ...fields, restartInMs: delay }, `worker ${w.id} exited unexpectedly (${how}); restarting it`);
    slot.timer = setTimeout(() => {
      if (this.stopping) return;
      this.restarts.inc();
      void this.fork(slot);
    }, delay);
  }

  /** The workers alive now, by slot. */
  live(): Worker[] {
    return this.slots.filter((s) => s.state === 'running' && s.worker).map((s) => s.worker!);
  }

  /** Ask every running worker; per worker id, its answer or the error. */
  async askAll(what: WorkerQuestion, timeoutMs: number): Promise<[number, { ok: true; value: unknown } | { ok: false; error: string }][]> {
    return Promise.all(
      this.live().map(async (w) => {
        try {
          return [w.id, { ok: true as const, value: await ask(w, what, timeoutMs) }] as const;
        } catch (err) {
          return [w.id, { ok: false as const, error: (err as Error).message }] as const;
        }
      }),
    ) as Promise<[number, { ok: true; value: unknown } | { ok: false; error: string }][]>;
  }

  /**
   * Validate the config once (the primary's own reload: invalid, nothing changed anywhere and this
   * throws as a single process does), then reload every running worker. One at a time.
   */
  reload(): Promise<ReloadReport> {
    const run = this.reloading.then(async () => {
      await this.gw.reload();
      const { pluginTimeout } = this.gw.runtime.loaded.config.server;
      // A worker's reload waits for the old tasks to stop, then for the new plugins to start.
      const answers = await this.askAll('reload', 2 * pluginTimeout + EXIT_SLACK_MS);
      const report: ReloadReport = {};
      for (const [id, a] of answers) report[id] = a.ok ? { status: 'reloaded' } : { status: 'failed', error: a.error };
      const failed = Object.entries(report).filter(([, r]) => r.status === 'failed');
      if (failed.length > 0) this.log.error({ workers: report }, `reload failed in ${failed.length} of ${answers.length} workers`);
      else this.log.info({ workers: Object.keys(report) }, 'configuration reloaded in every worker');
      return report;
    });
    this.reloading = run.catch(() => undefined);
    return run;
  }

  /** SIGTERM every worker and wait for them to exit (each drains as a single process does), SIGKILL past the bound. */
  private async stopWorkers(): Promise<void> {
    this.stopping = true;
    for (const s of this.slots) clearTimeout(s.timer);
    const workers = this.slots.map((s) => s.worker).filter((w): w is Worker => w !== undefined && !w.isDead());
    const { shutdownGrace, pluginTimeout } = this.loaded.config.server;
    const exits = workers.map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
    for (const w of workers) w.process.kill('SIGTERM');
    const timer = setTimeout(
      () => {
        for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
      },
      shutdownGrace + pluginTimeout + EXIT_SLACK_MS,
    );
    await Promise.all(exits);
    clearTimeout(timer);
  }

  /** Drain every worker, then close the admin listener and the primary's own plugins. */
  async shutdown(): Promise<void> {
    this.gw.ready = false;
    this.dashboard.stop();
    await this.stopWorkers();
    await this.gw.close(0);
  }
}

/** Run the cluster primary for `count` workers; resolves with the exit code. */
export function runPrimary(loaded: LoadedConfig, count: number, options: GatewayOptions, out: { error(s: string): void }): Promise<number> {
  return new ClusterPrimary(loaded, count, options).run(out);
}
