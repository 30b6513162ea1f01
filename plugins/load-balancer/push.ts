import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { Waker, type LeasedItem, type Json, type StateStore, type UpstreamsScope } from '../../core/plugin-api';
import type { LbMetrics } from './metrics';
import type { TaskPoster } from './post';
import type { TaskRecords } from './records';
import type { LoadBalancerOptions } from './schema';
import { usable, type Slot, type Slots } from './slots';
import type { TaskPayload, TaskRecord } from './task';

/** Tasks started in one go at most. */
const MAX_BATCH = 64;
/** How long a target that refused a connection is passed over. */
const DOWN_MS = 1000;
/** Abort reasons. */
const STOP = 'gatehouse stopping';
const CANCELED = 'canceled';
const LOST = 'lease lost';

/** Services the push dispatcher needs. */
export interface PushDeps {
  readonly options: Readonly<LoadBalancerOptions>;
  readonly store: () => StateStore;
  readonly records: TaskRecords;
  readonly upstreams: UpstreamsScope;
  readonly slots: Slots;
  readonly poster: TaskPoster;
  readonly metrics: LbMetrics;
  readonly logger: Logger;
  /** A task finished here (for the service time estimate). */
  readonly finished: (runMs: number) => void;
  /** Core's `scope.inflight`: an attempt outlives a reload, and its signal aborts on shutdown. */
  readonly inflight: (work: (shutdown: AbortSignal) => Promise<void>) => Promise<void>;
}

/**
 * Push dispatch (one loop per process; every process on the store runs one): take a free worker
 * slot, lease the oldest task, POST it to that worker, renew lease and slot while it runs, and
 * record the answer. Leases make each task one process's; slot locks keep each target within
 * its limit across processes. The loop stops with its generation (a reload: the next one's loop
 * takes over); each attempt runs as in-flight work, so a reload lets it finish and record its
 * result, and only a shutdown aborts it (the task goes back to the queue).
 */
export class PushDispatcher {
  private readonly waker = new Waker();
  private readonly running = new Map<string, AbortController>();
  private readonly down = new Map<string, number>();

  constructor(private readonly d: PushDeps) {}

  /** Tasks this process is posting now. */
  get inflight(): number {
    return this.running.size;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { options, records, slots } = this.d;
    setMaxListeners(0, signal);
    slots.open();
    try {
      while (!signal.aborted) {
        let started = 0;
        try {
          started = await this.tryMany();
          if (started === 0) await slots.sweep();
        } catch (err) {
          this.d.logger.warn({ err: (err as Error).message, queue: records.queueName }, 'dispatch cannot reach the store');
        }
        if (started === 0) await this.waker.sleep(options.pollMs, signal);
      }
    } finally {
      // Attempts under way go on (in-flight work); what they free from now on is released at once.
      await slots.close();
    }
  }

  /** Start as many tasks as there are queued and free slots for; resolves to how many. */
  private async tryMany(): Promise<number> {
    const { options, records, store, slots, upstreams } = this.d;
    const stats = await store().queue.stats(records.queueName);
    if (stats.ready === 0) return 0;
    const info = options.upstream === undefined ? undefined : upstreams.get(options.upstream);
    const targets = usable(info);
    if (!info || targets.length === 0) return 0;
    const free = await slots.take(targets, info, this.down, Math.min(stats.ready, MAX_BATCH));
    if (free.length === 0) return 0;
    let items: LeasedItem<TaskPayload & Json>[] = [];
    try {
      items = await store().queue.lease<TaskPayload & Json>(records.queueName, free.length, options.heartbeatMs);
    } finally {
      for (const slot of free.slice(items.length)) slots.park(slot);
    }
    items.forEach((item, i) => {
      const slot = free[i];
      void this.d.inflight((shutdown) =>
        this.attempt(item, slot, shutdown)
          .catch((err: unknown) => {
            this.d.logger.error({ id: item.id, err: (err as Error).message }, 'dispatch failed; the task is retried after its lease');
            slots.lapse(slot);
          })
          .finally(() => this.waker.nudge()),
      );
    });
    return items.length;
  }

  /** One task on one worker; `signal` (shutdown) aborts it and hands the task back. */
  private async attempt(item: LeasedItem<TaskPayload & Json>, slot: Slot, signal: AbortSignal): Promise<void> {
    const { options, records, slots, metrics } = this.d;
    const record = await records.begin(item, slot.url);
    if (!record) return slots.park(slot);
    const started = Date.now();
    metrics.waited((started - record.createdAt) / 1000);
    const ctl = new AbortController();
    this.running.set(record.id, ctl);
    const onStop = () => ctl.abort(STOP);
    signal.addEventListener('abort', onStop);
    // Started as the gateway shuts down: hand it back at once.
    if (signal.aborted) onStop();
    const renew = setInterval(() => void this.renew(record, slot, ctl), Math.max(50, Math.floor(options.heartbeatMs / 3)));
    const p = item.payload;
    const progressUrl = `${p.callback}/${options.service}/_worker/${record.id}/progress?attempt=${record.attempt}`;
    const headers = {
      ...(p.contentType ? { 'content-type': p.contentType } : {}),
      'gatehouse-task-id': record.id,
      'gatehouse-progress-url': progressUrl,
      'gatehouse-attempt': String(record.attempts),
    };
    let result;
    try {
      result = await this.d.poster.post(new URL(slot.url), Buffer.from(p.body, 'base64'), headers, ctl.signal);
    } finally {
      clearInterval(renew);
      signal.removeEventListener('abort', onStop);
      this.running.delete(record.id);
    }
    const attempt = record.attempt!;
    const runMs = Date.now() - started;
    switch (result.kind) {
      case 'answer':
        // The slot is free for the next task while this one's result is being written.
        slots.park(slot);
        this.waker.nudge();
        if (await records.finish(record.id, attempt, result.outcome)) {
          metrics.finished(result.outcome.state, runMs / 1000);
          this.d.finished(runMs);
        }
        return;
      case 'dropped':
        // The worker's connection died with the task on it: the worker is gone, so is the slot's work.
        await slots.free(slot);
        if (await records.finish(record.id, attempt, { state: 'failed', error: { code: 'WORKER_DISCONNECTED', message: result.error } }))
          metrics.finished('failed', runMs / 1000);
        return;
      case 'unreachable':
        // Nothing ran: the task goes back at once, the target is passed over for a moment.
        this.down.set(slot.url, Date.now() + DOWN_MS);
        await slots.free(slot);
        await records.handBack(record.id, attempt, result.error, false);
        return;
      case 'timeout':
        slots.lapse(slot);
        if (
          await records.finish(record.id, attempt, {
            state: 'failed',
            error: { code: 'TIMEOUT', message: `no answer within taskTimeoutMs (${options.taskTimeoutMs} ms)` },
          })
        )
          metrics.finished('failed', runMs / 1000);
        return;
      case 'aborted':
        // The worker may be computing still (a plain HTTP service does not notice): its slot stays taken until it lapses.
        slots.lapse(slot);
        if (result.reason === STOP) await records.handBack(record.id, attempt, STOP).catch(() => undefined);
        return;
    }
  }

  /** Keep the attempt's lease and slot; stop it when it was canceled or its lease was lost. */
  private async renew(record: TaskRecord, slot: Slot, ctl: AbortController): Promise<void> {
    try {
      const at = Date.now();
      const [kept, current, renewed] = await Promise.all([this.d.records.extend(record), this.d.records.get(record.id), slot.lock.renew()]);
      if (renewed) slot.renewedAt = at;
      if (current?.state === 'canceled') ctl.abort(CANCELED);
      else if (!kept || current?.attempt !== record.attempt) ctl.abort(LOST);
    } catch (err) {
      this.d.logger.warn({ id: record.id, err: (err as Error).message }, 'cannot renew a running task; trying again');
    }
  }

  /** Abort a task posted from this process (canceled here). */
  cancel(id: string): void {
    this.running.get(id)?.abort(CANCELED);
  }

  /** Look at the queue now (a task was submitted, a slot freed). */
  nudge(): void {
    this.waker.nudge();
  }
}
