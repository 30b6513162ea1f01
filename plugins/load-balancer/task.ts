import type { Json } from '../../core/plugin-api';

/** A task's state, by its modern name. */
export type TaskState = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'expired';
export const TASK_STATES: readonly TaskState[] = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'expired'];
/** States a task never leaves. */
export const FINAL: ReadonlySet<TaskState> = new Set(['succeeded', 'failed', 'canceled', 'expired']);

/** Why a task failed (the SG's FAILURE result). */
export interface TaskError {
  readonly code: string | number;
  readonly message: string;
}

/**
 * One task as stored at kv `task/<id>`. Every change is a cas on the entry's version, so two
 * processes never both move a task; the body lives in the queue item, not here.
 */
export interface TaskRecord {
  readonly id: string;
  readonly service: string;
  readonly state: TaskState;
  /** 0-100 once the worker reported; null before. */
  readonly progress: number | null;
  readonly message: string | null;
  /** Dispatches so far. */
  readonly attempts: number;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** The target URL (push) or the worker's name (pull) of the current or last attempt. */
  readonly worker: string | null;
  readonly result?: Json;
  readonly error?: TaskError;
  /** Secret of the current attempt: progress, result and fail calls must carry it. */
  readonly attempt?: string;
  /** The queue lease token of the current attempt, so any process can extend it. */
  readonly lease?: string;
  /** When the result stops being served (finishedAt + resultTtlMs). */
  readonly expiresAt?: number;
}

/** A queue item's payload: what a worker is given. */
export interface TaskPayload {
  readonly id: string;
  readonly service: string;
  readonly contentType: string | null;
  /** base64 */
  readonly body: string;
  /** The endpoint it came in on: process (JSON), annotate (form) or tasks. */
  readonly kind: 'process' | 'annotate' | 'tasks';
  readonly createdAt: number;
  /** Base URL for the worker's progress calls. */
  readonly callback: string;
}

/** The state as read now: a finished task past its TTL is expired whatever its record says. */
export function stateAt(r: TaskRecord, now: number): TaskState {
  if (r.expiresAt !== undefined && now >= r.expiresAt && r.state !== 'canceled') return 'expired';
  return r.state;
}

/** The SG's status name of a task. */
export function sgStatus(r: TaskRecord, now: number): string {
  switch (stateAt(r, now)) {
    case 'queued':
      return 'PENDING';
    case 'running':
      return r.progress === null ? 'STARTED' : 'PROGRESS';
    case 'succeeded':
      return 'SUCCESS';
    case 'failed':
      return 'FAILURE';
    case 'canceled':
      return 'REVOKED';
    case 'expired':
      return 'EXPIRED';
  }
}

/** The SG's `{uuid, status, result}` answer. */
export function sgView(r: TaskRecord, now: number): { uuid: string; status: string; result: unknown } {
  const status = sgStatus(r, now);
  let result: unknown = null;
  if (status === 'PROGRESS') result = { current: r.progress, total: 100 };
  else if (status === 'SUCCESS') result = r.result ?? null;
  else if (status === 'FAILURE') result = r.error ?? { code: 'FAILED', message: 'The task failed' };
  else if (status === 'REVOKED') result = r.error ?? { code: 'REVOKED', message: 'The task was canceled' };
  return { uuid: r.id, status, result };
}

/** The modern and admin view (ms epoch numbers, null when unknown); `full` adds result and error. */
export function taskView(r: TaskRecord, now: number, eta: number | null, full = false): Record<string, unknown> {
  const state = stateAt(r, now);
  return {
    id: r.id,
    service: r.service,
    state,
    progress: r.progress,
    message: r.message,
    attempts: r.attempts,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    worker: r.worker,
    eta: FINAL.has(state) ? null : eta,
    ...(full ? { result: state === 'succeeded' ? (r.result ?? null) : null, error: r.error ?? null } : {}),
  };
}
