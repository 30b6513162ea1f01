import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { GatehouseError } from '../errors';
import type { SampleRing } from '../observe/sample-ring';
import type { AdminRouter } from '../server/admin-router';
import type { Gateway } from '../server/gateway';

/** Task states the tasks page shows, and how many of each it asks for. */
const TASK_STATES: readonly [string, number][] = [
  ['running', 100],
  ['queued', 100],
  ['failed', 10],
  ['canceled', 10],
];

/** A section that could not be read: shown as its error instead of failing the whole page. */
interface Failed {
  readonly error: { code: string; message: string };
}

function failed(err: unknown): Failed {
  const e = err instanceof GatehouseError ? err : new GatehouseError('GH_ERR_INTERNAL', (err as Error)?.message);
  return { error: { code: e.code, message: e.message } };
}

/** One worker slot of a cluster, as the dashboard lists it. */
export interface WorkerView {
  readonly slot: number;
  /** starting, running, restarting (waiting out a backoff) or stopped (after a crash loop). */
  readonly state: string;
  /** Its cluster worker id (the `Gatehouse-Worker` header's value) while running, else null. */
  readonly worker: number | null;
  /** Requests (and 5xx answers) it served since it started, as the primary collected them. */
  readonly requests: number;
  readonly errors: number;
  /** Why its last answer to the primary did not come (it is left out of what it did not answer). */
  readonly missing?: string;
}

/**
 * What a cluster primary's dashboard reads from its workers instead of its own process, which
 * serves no requests and runs no health checks (core/server/cluster-dashboard.ts).
 */
export interface ClusterView {
  /** The per-second samples merged from every worker's ring. */
  readonly samples: SampleRing;
  /** Every upstream as the workers see it, merged into the single process's shape. */
  upstreams(): Promise<unknown>;
  /** Every worker's metrics and the primary's, aggregated as `/metrics` aggregates them. */
  metrics(): Promise<Registry>;
  /** Each worker slot. */
  workers(): WorkerView[];
}

/** Everything but the per-second samples, as the dashboard pages read it. */
export interface UiState {
  readonly at: number;
  readonly routes: unknown;
  readonly upstreams: unknown;
  readonly plugins: unknown;
  readonly webhooks: unknown;
  readonly tasks: unknown;
  readonly registry: unknown;
  /** Under `server.workers` above 1 only: each worker slot. */
  readonly workers?: WorkerView[];
}

/** The metric series of one plugin instance: its own (`gatehouse_<name>_…`) and core's about it (`gatehouse_plugin_…`). */
async function pluginMetricsOf(
  registry: Registry,
  plugin: string,
  instance: string,
): Promise<{ name: string; labels: object; value: number }[]> {
  const own = `gatehouse_${plugin.replace(/-/g, '_')}_`;
  const out: { name: string; labels: object; value: number }[] = [];
  for (const m of registry.getMetricsAsArray()) {
    const name = (m as { name: string }).name;
    if (!name.startsWith(own) && !name.startsWith('gatehouse_plugin_')) continue;
    const got = (await (m as unknown as { get(): Promise<unknown> }).get()) as {
      type: string;
      values: { labels: Record<string, unknown>; value: number; metricName?: string }[];
    };
    for (const v of got.values) {
      if (v.labels.instance !== instance) continue;
      // Histograms: the count and sum say enough here; the buckets are for Prometheus.
      if (got.type === 'histogram' && v.metricName?.endsWith('_bucket')) continue;
      const { instance: _i, plugin: _p, ...labels } = v.labels;
      out.push({ name: v.metricName ?? name, labels, value: v.value });
    }
  }
  return out;
}

/**
 * Reads the dashboard's state through the admin API's own handlers (in process, as an
 * authenticated caller), so the pages show exactly what the API answers; in a cluster primary,
 * the upstreams and the workers from `cluster` (the API's `/upstreams` there is per worker).
 */
export class UiSnapshot {
  constructor(
    private readonly gw: Gateway,
    private readonly router: AdminRouter,
    private readonly cluster?: ClusterView,
  ) {}

  private async get(req: IncomingMessage, res: ServerResponse, path: string, search = ''): Promise<unknown> {
    try {
      return (await this.router.invoke(req, res, 'GET', path, search)).body;
    } catch (err) {
      return failed(err);
    }
  }

  /** Plugin instances whose admin API has this endpoint (which queues and task lists there are). */
  private instancesWith(path: string): string[] {
    return this.gw.runtime
      .pluginStates()
      .map((p) => p.instance)
      .filter((i) => this.router.has('GET', `/plugins/${i}${path}`));
  }

  /** One snapshot of every page's data. */
  async read(req: IncomingMessage, res: ServerResponse): Promise<UiState> {
    // In a cluster primary the plugins run in the workers: their series are the workers' sum.
    const registry = this.cluster ? await this.cluster.metrics().catch(() => this.gw.metrics.registry) : this.gw.metrics.registry;
    const plugins = await Promise.all(
      this.gw.runtime.pluginStates().map(async (p) => ({ ...p, metrics: await pluginMetricsOf(registry, p.plugin, p.instance) })),
    );
    const webhooks = await Promise.all(
      this.instancesWith('/messages').map(async (instance) => ({
        instance,
        ...((await this.get(req, res, `/plugins/${instance}/messages`, '?state=dead&limit=100')) as object),
      })),
    );
    const tasks = await Promise.all(
      this.instancesWith('/tasks').map(async (instance) => {
        const lists = await Promise.all(
          TASK_STATES.map(([state, limit]) => this.get(req, res, `/plugins/${instance}/tasks`, `?state=${state}&limit=${limit}`)),
        );
        const error = lists.find((l) => (l as Failed).error) as Failed | undefined;
        return { instance, ...(error ?? {}), tasks: lists.flatMap((l) => (l as { tasks?: unknown[] }).tasks ?? []) };
      }),
    );
    return {
      at: Date.now(),
      routes: await this.get(req, res, '/routes'),
      upstreams: this.cluster ? await this.cluster.upstreams().catch(failed) : await this.get(req, res, '/upstreams'),
      plugins,
      webhooks,
      tasks,
      registry: this.gw.registry ? await this.get(req, res, '/registry/services', '?limit=1000') : { off: true },
      ...(this.cluster ? { workers: this.cluster.workers() } : {}),
    };
  }
}
