import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Op } from './kv-ops';
import type { ItemRow } from './protocol';
import { ACKED, DEAD, LEASED, WAITING } from './schema';

const COLUMNS = 'seq, queue, id, state, payload, attempts, enqueued_at, due_at, grp, token, last_error, result, ended_at, retain_ms';

/** True while an ended (acked) item still counts for dedupe and `get`. */
const retained = (row: ItemRow, now: number): boolean => row.state !== ACKED || (row.ended_at ?? 0) + row.retain_ms > now;

/** Queue operations on one connection; each runs inside the batch's IMMEDIATE transaction. */
export function queueOps(db: Database.Database): Record<string, Op> {
  const byId = db.prepare<[string, string], ItemRow>(`SELECT ${COLUMNS} FROM items WHERE queue = ? AND id = ?`);
  const deleteSeq = db.prepare('DELETE FROM items WHERE seq = ?');
  const insert = db.prepare(
    `INSERT INTO items (queue, id, state, payload, enqueued_at, due_at, grp, retain_ms) VALUES (?, ?, ${WAITING}, ?, ?, ?, ?, ?)`,
  );
  const reclaim = db.prepare(
    `UPDATE items SET state = ${WAITING}, token = NULL, last_error = 'lease expired'
     WHERE queue = ? AND state = ${LEASED} AND due_at <= ?`,
  );
  // Oldest due first; a grouped item is due only when nothing earlier of its group is still open.
  const due = db.prepare<[string, number, number], ItemRow>(
    `SELECT ${COLUMNS} FROM items i WHERE queue = ? AND state = ${WAITING} AND due_at <= ?
       AND (grp IS NULL OR NOT EXISTS (SELECT 1 FROM items j WHERE j.queue = i.queue AND j.grp = i.grp
         AND j.seq < i.seq AND j.state IN (${WAITING}, ${LEASED})))
     ORDER BY due_at, seq LIMIT ?`,
  );
  const take = db.prepare(`UPDATE items SET state = ${LEASED}, token = ?, attempts = attempts + 1, due_at = ? WHERE seq = ?`);
  const extend = db.prepare(`UPDATE items SET due_at = ? WHERE queue = ? AND id = ? AND state = ${LEASED} AND token = ?`);
  const ackKeep = db.prepare(
    `UPDATE items SET state = ${ACKED}, token = NULL, result = ?, ended_at = ? WHERE queue = ? AND id = ? AND state = ${LEASED} AND token = ?`,
  );
  const ackDrop = db.prepare(`DELETE FROM items WHERE queue = ? AND id = ? AND state = ${LEASED} AND token = ? AND retain_ms = 0`);
  const retry = db.prepare(
    `UPDATE items SET state = ${WAITING}, token = NULL, due_at = ?, last_error = ? WHERE queue = ? AND id = ? AND state = ${LEASED} AND token = ?`,
  );
  const kill = db.prepare(
    `UPDATE items SET state = ${DEAD}, token = NULL, ended_at = ?, last_error = ? WHERE queue = ? AND id = ? AND state = ${LEASED} AND token = ?`,
  );
  const deadPage = db.prepare<[string, number, number, number, number], ItemRow>(
    `SELECT ${COLUMNS} FROM items WHERE queue = ? AND state = ${DEAD} AND (ended_at > ? OR (ended_at = ? AND seq > ?))
     ORDER BY ended_at, seq LIMIT ?`,
  );
  // Flags pick the states: ready (waiting and due), delayed (waiting, not due), leased, dead.
  const listPage = db.prepare<[string, number, number, number, number, number, number, number, number], ItemRow>(
    `SELECT ${COLUMNS} FROM items WHERE queue = ? AND seq > ?
       AND ((? AND state = ${WAITING} AND due_at <= ?) OR (? AND state = ${WAITING} AND due_at > ?)
         OR (? AND state = ${LEASED}) OR (? AND state = ${DEAD}))
     ORDER BY seq LIMIT ?`,
  );
  const replay = db.prepare(
    `UPDATE items SET state = ${WAITING}, attempts = 0, due_at = ?, ended_at = NULL WHERE queue = ? AND id = ? AND state = ${DEAD}`,
  );
  const purgeOne = db.prepare(`DELETE FROM items WHERE queue = ? AND id = ? AND state = ${DEAD}`);
  const purgeAll = db.prepare(`DELETE FROM items WHERE queue = ? AND state = ${DEAD}`);
  const stats = db.prepare<[number, number, number, string], Record<string, number | null>>(
    `SELECT
       sum(state = ${WAITING} AND due_at <= ?) AS ready,
       sum(state = ${WAITING} AND due_at > ?) AS delayed,
       sum(state = ${LEASED}) AS leased,
       sum(state = ${DEAD}) AS dead,
       min(CASE WHEN state IN (${WAITING}, ${LEASED}) THEN enqueued_at END) AS oldest,
       ? AS now
     FROM items WHERE queue = ?`,
  );
  const queues = db.prepare<[], { queue: string }>('SELECT DISTINCT queue FROM items ORDER BY queue');
  const sweep = db.prepare(`DELETE FROM items WHERE state = ${ACKED} AND ended_at + retain_ms <= ?`);

  return {
    qEnqueue(now: number, queue: string, id: string, payload: string, delayMs: number, group: string | null, retainMs: number) {
      const existing = byId.get(queue, id);
      if (existing && retained(existing, now)) return true;
      if (existing) deleteSeq.run(existing.seq);
      insert.run(queue, id, payload, now, now + delayMs, group, retainMs);
      return false;
    },
    qLease(now: number, queue: string, n: number, leaseMs: number) {
      reclaim.run(queue, now);
      const rows = due.all(queue, now, n);
      return rows.map((row) => {
        const token = randomUUID();
        take.run(token, now + leaseMs, row.seq);
        return { ...row, state: LEASED, token, attempts: row.attempts + 1, due_at: now + leaseMs };
      });
    },
    qExtend: (now: number, queue: string, id: string, token: string, leaseMs: number) =>
      extend.run(now + leaseMs, queue, id, token).changes === 1,
    qAck(now: number, queue: string, id: string, token: string, result: string | null) {
      if (ackDrop.run(queue, id, token).changes === 1) return true;
      return ackKeep.run(result, now, queue, id, token).changes === 1;
    },
    qRetry: (now: number, queue: string, id: string, token: string, delayMs: number, error: string) =>
      retry.run(now + delayMs, error, queue, id, token).changes === 1,
    qDead: (now: number, queue: string, id: string, token: string, error: string) => kill.run(now, error, queue, id, token).changes === 1,
    qGet(now: number, queue: string, id: string) {
      reclaim.run(queue, now);
      const row = byId.get(queue, id);
      return row && retained(row, now) ? row : undefined;
    },
    qRemove(now: number, queue: string, id: string) {
      const row = byId.get(queue, id);
      if (!row) return false;
      deleteSeq.run(row.seq);
      return retained(row, now);
    },
    qList(now: number, queue: string, states: string, afterSeq: number, limit: number) {
      reclaim.run(queue, now);
      const on = (state: string): number => (states.includes(state) ? 1 : 0);
      return listPage.all(queue, afterSeq, on('r'), now, on('y'), now, on('l'), on('d'), limit);
    },
    qDeadLetters(_now: number, queue: string, afterEnded: number, afterSeq: number, limit: number) {
      return deadPage.all(queue, afterEnded, afterEnded, afterSeq, limit);
    },
    qReplay: (now: number, queue: string, id: string) => replay.run(now, queue, id).changes === 1,
    qPurge: (_now: number, queue: string, id?: string) => (id === undefined ? purgeAll.run(queue) : purgeOne.run(queue, id)).changes,
    qStats(now: number, queue: string) {
      reclaim.run(queue, now);
      const s = stats.get(now, now, now, queue)!;
      return {
        ready: s.ready ?? 0,
        delayed: s.delayed ?? 0,
        leased: s.leased ?? 0,
        dead: s.dead ?? 0,
        oldestAgeMs: s.oldest === null ? 0 : Math.max(0, now - s.oldest),
      };
    },
    qQueues: () => queues.all().map((r) => r.queue),
    qSweep: (now: number) => sweep.run(now).changes,
  };
}
