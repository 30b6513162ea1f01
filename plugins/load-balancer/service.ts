import type { Context, StateStore, UpstreamsScope } from '../../core/plugin-api';
import type { CapacityInputs } from './capacity';
import type { ServiceTime } from './estimate';
import type { LbMetrics } from './metrics';
import type { TaskRecords } from './records';
import type { LoadBalancerOptions } from './schema';
import { slotsOf, usable } from './slots';
import { stateAt, taskView, type TaskPayload, type TaskRecord, type TaskState } from './task';

/** Services of one load-balancer instance. */
export interface ServiceDeps {
  readonly options: Readonly<LoadBalancerOptions>;
  readonly store: () => StateStore;
  readonly records: TaskRecords;
  readonly upstreams: UpstreamsScope;
  readonly metrics: LbMetrics;
  readonly time: ServiceTime;
  /** A task was stored: dispatch may start it. */
  readonly submitted: () => void;
  /** A task was canceled here: stop it if this process runs it. */
  readonly canceled: (id: string) => void;
}

/** What the public API and the admin API do with tasks: submit, read with an estimate, cancel, list. */
export class TaskService {
  constructor(readonly d: ServiceDeps) {}

  /** Read the body and store the task; resolves once it is durable. */
  async submit(ctx: Context, kind: TaskPayload['kind']): Promise<{ record: TaskRecord; duplicate: boolean }> {
    const { options } = this.d;
    const limit = { limit: options.maxBodyBytes };
    let contentType = ctx.req.headers['content-type'] ?? null;
    let body: Buffer;
    if (kind === 'annotate') {
      await ctx.readForm(limit); // refuses what is not a form, as the original's form parsing did
      body = await ctx.readBody(limit);
    } else {
      body = await ctx.readBody(limit);
      if (kind === 'process' && contentType === null) contentType = 'application/json';
    }
    const callback =
      options.callbackUrl?.replace(/\/+$/, '') ?? `${ctx.secure ? 'https' : 'http'}://${ctx.req.headers.host ?? '127.0.0.1'}`;
    const key = ctx.req.headers['idempotency-key'];
    const res = await this.d.records.submit(
      { service: options.service, contentType, body: body.toString('base64'), kind, callback },
      typeof key === 'string' && key.length > 0 ? key : undefined,
    );
    if (!res.duplicate) this.d.metrics.submitted();
    this.d.submitted();
    return res;
  }

  /** Worker slots of the usable targets now (push), at least 1. */
  slots(): number {
    const info = this.d.options.upstream === undefined ? undefined : this.d.upstreams.get(this.d.options.upstream);
    if (!info) return 1;
    return Math.max(
      1,
      usable(info).reduce((n, t) => n + slotsOf(t, info), 0),
    );
  }

  /** When the task should be done (epoch ms), or null without a measured service time. */
  async eta(r: TaskRecord): Promise<number | null> {
    const now = Date.now();
    const state = stateAt(r, now);
    if (state === 'running') return this.d.time.eta(0, 1, now, r.startedAt ?? now) ?? null;
    if (state !== 'queued' || this.d.time.ms === undefined) return null;
    // The queue's ready count stands for the position: tasks leave oldest first.
    const stats = await this.d.store().queue.stats(this.d.records.queueName);
    return this.d.time.eta(Math.max(0, stats.ready - 1), this.slots(), now) ?? null;
  }

  /** Seconds to wait before asking again (Retry-After): the estimate, else 1. */
  retryAfter(eta: number | null): number {
    if (eta === null) return 1;
    return Math.max(1, Math.min(3600, Math.ceil((eta - Date.now()) / 1000)));
  }

  async view(r: TaskRecord, full = false): Promise<Record<string, unknown>> {
    return taskView(r, Date.now(), await this.eta(r), full);
  }

  /** Cancel a task; the record after, or undefined when there is none. */
  async cancel(id: string): Promise<TaskRecord | undefined> {
    const res = await this.d.records.cancel(id);
    if (!res) return undefined;
    if (res.record.state === 'canceled' && res.was !== 'canceled') {
      this.d.metrics.canceled();
      if (res.was === 'running') this.d.canceled(id);
    }
    return res.record;
  }

  /** Tasks in `state` (or all), newest first. */
  async list(state: TaskState | undefined, limit: number): Promise<Record<string, unknown>[]> {
    const now = Date.now();
    const rs = await this.d.records.list((r) => r.service === this.d.options.service && (!state || stateAt(r, now) === state), limit);
    return Promise.all(rs.map((r) => this.view(r)));
  }

  /** The capacity advice's inputs now: queue depth, busy, idle and booting workers. */
  async inputs(): Promise<CapacityInputs & { running: number; slots: number }> {
    const { options, upstreams, store, records } = this.d;
    const stats = await store().queue.stats(records.queueName);
    const depth = stats.ready + stats.delayed;
    const running = stats.leased;
    const info = options.upstream === undefined ? undefined : upstreams.get(options.upstream);
    const targets = info?.targets ?? [];
    const healthy = usable(info).length;
    const booting = targets.length - healthy;
    let workers = healthy;
    if (options.dispatch === 'pull') workers = (await store().kv.list(`worker/${options.service}/`, { limit: 1000 })).entries.length;
    // A worker runs one task at a time unless its target says more; busy counts workers, not tasks.
    const busy = Math.min(workers, running);
    return {
      depth,
      running,
      busy,
      idle: Math.max(0, workers - busy),
      booting: options.dispatch === 'pull' ? 0 : booting,
      slots: this.slots(),
    };
  }
}
