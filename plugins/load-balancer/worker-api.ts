import { timingSafeEqual } from 'node:crypto';
import { GatehouseError, type Context, type Json, type LeasedItem } from '../../core/plugin-api';
import { errors } from './errors';
import type { LbMetrics } from './metrics';
import { outcomeOf } from './post';
import type { Outcome } from './records';
import type { TaskService } from './service';
import { timeOutTask } from './timeouts';
import type { TaskPayload, TaskRecord } from './task';

/** The largest progress, result or fail body taken from a worker. */
const WORKER_BODY_MAX = 16 * 1024 * 1024;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The workers' side under /<service>/_worker/: `claim` (pull: a long poll handing out the oldest
 * task), and `<id>/progress`, `<id>/result`, `<id>/fail` for the attempt the worker holds (its
 * attempt token proves it; pull workers also send the worker token).
 */
export class WorkerApi {
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly service: TaskService,
    private readonly metrics: LbMetrics,
    private readonly finished: (runMs: number) => void,
  ) {}

  /** Wake waiting claims (a task was submitted). */
  nudge(): void {
    for (const w of [...this.waiters]) w();
  }

  private get options() {
    return this.service.d.options;
  }

  private checkWorkerToken(ctx: Context): void {
    const want = this.options.workerToken;
    if (this.options.dispatch !== 'pull' || want === undefined) return;
    const auth = ctx.req.headers.authorization ?? '';
    const got = auth.startsWith('Bearer ') ? auth.slice(7) : auth;
    if (!same(got, want)) throw errors.create('WORKER_UNAUTHORIZED', 'The worker token is missing or wrong');
  }

  async handle(ctx: Context, rest: string): Promise<void> {
    if (ctx.method !== 'POST') throw new GatehouseError('GH_ERR_METHOD_NOT_ALLOWED', 'Worker calls are POSTs');
    this.checkWorkerToken(ctx);
    if (rest === 'claim') {
      if (this.options.dispatch !== 'pull')
        throw new GatehouseError('GH_ERR_NOT_FOUND', `${this.options.service} pushes its tasks (dispatch: push)`);
      return this.claim(ctx);
    }
    const m = /^([^/]+)\/(progress|result|fail)$/.exec(rest);
    if (!m) throw new GatehouseError('GH_ERR_NOT_FOUND', `No worker call ${rest}`);
    const [, id, what] = m;
    const attempt = ctx.query.get('attempt') ?? (ctx.req.headers['gatehouse-attempt-token'] as string | undefined) ?? '';
    const { records } = this.service.d;
    let r = await records.get(id);
    if (!r || r.service !== this.options.service) throw errors.create('TASK_NOT_FOUND', `No task ${id}`);
    const current = r.state === 'running' && r.attempt !== undefined && same(attempt, r.attempt);
    // Past the timeout (the sweep has not seen it yet): it fails now, whatever the worker says.
    if (current && records.overdue(r)) r = (await timeOutTask(records, this.metrics, r)) ?? (await records.get(id)) ?? r;
    // A result or failure of a task that timed out is refused, not dropped: the worker's work is lost, and it should know.
    if (what !== 'progress' && r.state === 'failed' && r.error?.code === 'TIMEOUT') {
      const why = `it failed with TIMEOUT after taskTimeoutMs (${this.options.taskTimeoutMs} ms)`;
      throw errors.create('TASK_TIMED_OUT', `Task ${id}: its ${what} is not taken, ${why}`);
    }
    if (r.state !== 'running' || !r.attempt || !same(attempt, r.attempt)) return this.stale(ctx, r);
    if (what === 'progress') return this.progress(ctx, r, attempt);
    const body = await ctx.readBody({ limit: WORKER_BODY_MAX });
    let o: Outcome;
    if (what === 'result') o = outcomeOf(200, ctx.req.headers['content-type'], body);
    else {
      const f = outcomeOf(500, 'application/json', body);
      o = f.state === 'failed' ? f : { state: 'failed', error: { code: 'FAILED', message: 'the worker failed the task' } };
    }
    const done = await records.finish(id, attempt, o);
    if (!done) return this.stale(ctx, (await records.get(id)) ?? r);
    const runMs = Date.now() - (r.startedAt ?? Date.now());
    this.metrics.finished(o.state, runMs / 1000);
    if (o.state === 'succeeded') this.finished(runMs);
    ctx.json(200, { state: done.state, continue: false });
  }

  /** The worker's attempt is not the task's current one (canceled, requeued, finished): it should stop. */
  private stale(ctx: Context, r: TaskRecord): void {
    ctx.json(200, { state: r.state, continue: false });
  }

  private async progress(ctx: Context, r: TaskRecord, attempt: string): Promise<void> {
    let body: { progress?: unknown; message?: unknown } = {};
    try {
      // Any content type: a worker's curl may not say JSON.
      body = (JSON.parse((await ctx.readBody({ limit: 65536 })).toString('utf8') || '{}') as typeof body) ?? {};
    } catch {
      throw new GatehouseError('GH_ERR_BODY_INVALID', 'A progress report is JSON: {"progress": 0-100, "message": "…"}');
    }
    const p =
      typeof body.progress === 'number' && Number.isFinite(body.progress) ? Math.max(0, Math.min(100, Math.round(body.progress))) : null;
    const msg = typeof body.message === 'string' ? body.message.slice(0, 1000) : null;
    const { records } = this.service.d;
    const now = await records.progress(r.id, attempt, p, msg);
    // Pull: the report is the heartbeat. Push: gatehouse renews the lease itself while posting.
    const kept = this.options.dispatch === 'pull' && now ? await records.extend(now) : true;
    const going = now !== undefined && now.state === 'running' && now.attempt === attempt && kept;
    if (this.options.dispatch === 'pull' && going) await this.seen(ctx, true);
    ctx.json(200, { state: now?.state ?? r.state, continue: going });
  }

  /** The worker's name: `?worker=`, else the Gatehouse-Worker header, else its address. */
  private workerName(ctx: Context): string {
    const n = ctx.query.get('worker') ?? (ctx.req.headers['gatehouse-worker'] as string | undefined) ?? ctx.clientIp;
    return n.slice(0, 200);
  }

  /** Note a pulling worker as alive (busy or idle) for the capacity advice. */
  private async seen(ctx: Context, busy: boolean): Promise<void> {
    const ttlMs = this.options.claimWaitMs + this.options.heartbeatMs;
    await this.service.d
      .store()
      .kv.set(`worker/${this.options.service}/${this.workerName(ctx)}`, { busy, at: Date.now() }, { ttlMs })
      .catch(() => undefined);
  }

  private async claim(ctx: Context): Promise<void> {
    const { options } = this;
    const asked = Number(ctx.query.get('waitMs') ?? options.claimWaitMs);
    const waitMs = Math.max(0, Math.min(options.claimWaitMs, Number.isFinite(asked) ? asked : options.claimWaitMs));
    const deadline = Date.now() + waitMs;
    let gone = false;
    const left = () => (gone = true);
    ctx.req.socket.once('close', left);
    try {
      await this.claimLoop(ctx, deadline, () => gone);
    } finally {
      ctx.req.socket.removeListener('close', left);
    }
  }

  private async claimLoop(ctx: Context, deadline: number, isGone: () => boolean): Promise<void> {
    const { options } = this;
    const { records, store } = this.service.d;
    const worker = this.workerName(ctx);
    await this.seen(ctx, false);
    while (!isGone()) {
      const [item] = await store().queue.lease<TaskPayload & Json>(records.queueName, 1, options.heartbeatMs);
      if (item) {
        const r = await records.begin(item as LeasedItem<TaskPayload & Json>, worker);
        if (!r) continue;
        if (isGone()) {
          await records.handBack(r.id, r.attempt!, 'the claiming worker left', false).catch(() => undefined);
          return;
        }
        this.metrics.waited((Date.now() - r.createdAt) / 1000);
        await this.seen(ctx, true);
        const at = `/${options.service}/_worker/${r.id}`;
        return ctx.json(200, {
          id: r.id,
          attempt: r.attempt,
          attempts: r.attempts,
          kind: item.payload.kind,
          contentType: item.payload.contentType,
          body: item.payload.body,
          createdAt: r.createdAt,
          heartbeatMs: options.heartbeatMs,
          progressUrl: `${at}/progress?attempt=${r.attempt}`,
          resultUrl: `${at}/result?attempt=${r.attempt}`,
          failUrl: `${at}/fail?attempt=${r.attempt}`,
        });
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, options.pollMs));
        this.waiters.add(done);
      });
    }
    if (!isGone()) ctx.send(204);
  }
}
