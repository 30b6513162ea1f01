import type http from 'node:http';
import type { LoadedConfig } from '../config/load';
import type { ClusterView } from '../ui/snapshot';
import { createAdminServer } from './admin';
import type { AdminRoute } from './admin-router';
import type { Gateway } from './gateway';

/**
 * @internal What makes a Gateway part of a cluster (`server.workers` above 1;
 * core/server/cluster-*.ts): `worker` (its id) in a worker, which opens no admin listener and
 * names itself in logs; `adminOnly` in the primary, which opens only the admin listener (with
 * `adminRoutes` in place of core's endpoints of the same method and path, and a dashboard
 * showing `dashboard`, the workers' data), runs no background tasks and no health checks.
 */
export interface ClusterOptions {
  worker?: number;
  adminOnly?: boolean;
  adminRoutes?: readonly AdminRoute[];
  dashboard?: ClusterView;
}

/**
 * A Gateway's part in a cluster, or none (a single process): the few places where a worker
 * or the primary differs from a single process, kept here rather than spread over the gateway.
 */
export class ClusterRole {
  constructor(private readonly c: ClusterOptions | undefined) {}

  /** A cluster worker (it has an id). */
  get isWorker(): boolean {
    return this.c?.worker !== undefined;
  }

  /** The cluster primary: the admin listener only. */
  get adminOnly(): boolean {
    return this.c?.adminOnly === true;
  }

  /** Fields every log line carries: the worker id, or "primary". */
  logBindings(): Record<string, unknown> {
    return this.isWorker ? { worker: this.c!.worker } : this.adminOnly ? { worker: 'primary' } : {};
  }

  /** A cluster primary runs no tasks (its workers do: singletons in one of them, the rest in each). */
  get runsTasks(): boolean {
    return !this.adminOnly;
  }

  /** The `Gatehouse-Worker` value (a cluster worker with `server.workerHeader`), else undefined. */
  workerHeader(loaded: LoadedConfig): string | undefined {
    return this.isWorker && loaded.config.server.workerHeader ? String(this.c!.worker) : undefined;
  }

  /**
   * The upstreams this process applies: a cluster primary forwards nothing, so it runs no health
   * checks (its workers do); its pools exist for the plugins that look upstreams up.
   */
  ownUpstreams(loaded: LoadedConfig): LoadedConfig['config']['upstreams'] {
    const u = loaded.config.upstreams;
    if (!this.adminOnly) return u;
    return Object.fromEntries(Object.entries(u).map(([name, cfg]) => [name, { ...cfg, healthCheck: undefined }]));
  }

  /** Whether this process opens the proxy listeners (the primary does not: its workers share them). */
  get servesProxy(): boolean {
    return !this.adminOnly;
  }

  /**
   * The admin server, or undefined where there is none (a cluster's admin listener is the
   * primary's alone). Its own sample ring rolls unless the dashboard shows the workers' instead.
   */
  adminServer(gw: Gateway, token: string): http.Server | undefined {
    if (this.isWorker) return undefined;
    if (!this.c?.dashboard) gw.metrics.samples.start();
    return createAdminServer(gw, token, this.c?.adminRoutes, this.c?.dashboard);
  }

  /** A worker's lines are not the service's: the primary says 'gatehouse listening' once all listen. */
  message(what: 'listening' | 'stopped'): string {
    return `${this.isWorker ? 'worker' : 'gatehouse'} ${what}`;
  }
}
