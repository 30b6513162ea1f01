import type { DeadLetter, ItemState, Json, LeasedItem, QueueItem } from '../types';
import type { ItemRow } from './protocol';
import { ACKED, DEAD, LEASED } from './schema';

// Row → contract object conversions, on the caller's thread (JSON parsing stays off the worker).

const opt = <K extends string, V>(k: K, v: V | null): { [P in K]?: V } => (v === null ? {} : ({ [k]: v } as { [P in K]: V }));

/** A leased row as {@link LeasedItem}. */
export function leased(row: ItemRow): LeasedItem {
  return {
    queue: row.queue,
    id: row.id,
    token: row.token!,
    payload: JSON.parse(row.payload) as Json,
    attempts: row.attempts,
    enqueuedAt: row.enqueued_at,
    leaseUntil: row.due_at,
    ...opt('group', row.grp),
    ...opt('lastError', row.last_error),
  };
}

/** A row in any state as {@link QueueItem}; `now` tells ready from delayed. */
export function item<T extends Json>(row: ItemRow, now = Date.now()): QueueItem<T> {
  const state: ItemState =
    row.state === LEASED ? 'leased' : row.state === ACKED ? 'acked' : row.state === DEAD ? 'dead' : row.due_at > now ? 'delayed' : 'ready';
  return {
    queue: row.queue,
    id: row.id,
    state,
    payload: JSON.parse(row.payload) as T,
    attempts: row.attempts,
    enqueuedAt: row.enqueued_at,
    dueAt: row.due_at,
    ...opt('group', row.grp),
    ...opt('lastError', row.last_error),
    ...(row.result !== null ? { result: JSON.parse(row.result) as Json } : {}),
    ...opt('endedAt', row.ended_at),
  };
}

/** A dead row as {@link DeadLetter}. */
export function deadLetter(row: ItemRow): DeadLetter {
  return {
    id: row.id,
    payload: JSON.parse(row.payload) as Json,
    attempts: row.attempts,
    enqueuedAt: row.enqueued_at,
    deadAt: row.ended_at!,
    error: row.last_error ?? '',
    ...opt('group', row.grp),
  };
}
