import type { StateStore } from '../../core/plugin-api';
import type { LbMetrics } from './metrics';
import type { TaskRecords } from './records';
import type { TaskRecord } from './task';

/** Leased items read per page of the sweep. */
const PAGE = 1000;

/** How often the pull sweep looks for overdue tasks: every third of heartbeatMs, at most every second. */
export function sweepEvery(heartbeatMs: number): number {
  return Math.max(30, Math.min(1000, Math.floor(heartbeatMs / 3)));
}

/**
 * Pull: fail with TIMEOUT each task a worker holds (its lease live: it keeps its heartbeat) that
 * has run past taskTimeoutMs, whether or not the worker reports. A task whose lease lapsed is the
 * heartbeat's business instead: the next claim requeues it. Safe from every process at once:
 * the record's compare-and-set lets one of them fail it. Resolves to how many it failed.
 */
export async function sweepTimeouts(store: () => StateStore, records: TaskRecords, metrics: LbMetrics): Promise<number> {
  let failed = 0;
  let cursor: string | undefined;
  do {
    const page = await store().queue.list(records.queueName, { state: 'leased', limit: PAGE, ...(cursor ? { cursor } : {}) });
    const now = Date.now();
    for (const item of page.items) {
      if (item.dueAt <= now) continue;
      const r = await records.get(item.id);
      if (!r?.attempt || !records.overdue(r, now)) continue;
      if (await timeOutTask(records, metrics, r)) failed++;
    }
    cursor = page.cursor;
  } while (cursor);
  return failed;
}

/**
 * Fail running attempt `r` with TIMEOUT and count it: the record after, or undefined when
 * another call (a worker's, another process's sweep) moved it first. The sweep's and the worker
 * API's one way to time a task out.
 */
export async function timeOutTask(records: TaskRecords, metrics: LbMetrics, r: TaskRecord): Promise<TaskRecord | undefined> {
  const failed = await records.timeOut(r.id, r.attempt!);
  if (failed) metrics.finished('failed', (Date.now() - (r.startedAt ?? Date.now())) / 1000);
  return failed;
}
