/**
 * The worker thread that owns the SQLite connection (started by client.ts). Every request that
 * arrived while the previous transaction was committing is run in the next one: one BEGIN
 * IMMEDIATE, one COMMIT, one fsync for the whole batch (group commit), each request inside its
 * own SAVEPOINT so that one failing request does not undo the others. The caller's event loop
 * never waits for an fsync or for another process's write lock.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { changeReader, kvOps, type Op } from './kv-ops';
import type { ChangeRow, Reply, Request, WorkerInit, WorkerMessage } from './protocol';
import { queueOps } from './queue-ops';
import { migrate } from './schema';

/** Requests that only read: a batch of nothing else needs no write lock. */
const READS = new Set(['kvGet', 'kvList', 'kvRevision', 'qDeadLetters', 'qQueues']);
/** The most requests one transaction takes, so that one commit stays short. */
const MAX_BATCH = 2048;
const SWEEP_EVERY_MS = 10_000;
/** How long the change log keeps a change for watchers that fell behind (e.g. a paused process). */
const KEEP_CHANGES_MS = 5 * 60_000;

const { init, port } = workerData as { init: WorkerInit; port: MessagePort };
const post = (m: WorkerMessage): void => port.postMessage(m);

let db: Database.Database;
try {
  mkdirSync(dirname(init.path), { recursive: true });
  db = new Database(init.path, { timeout: init.busyTimeoutMs });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${init.durability === 'strict' ? 'FULL' : 'NORMAL'}`);
  migrate(db);
} catch (err) {
  post({ kind: 'failed', message: (err as Error).message });
  port.close();
  throw err;
}

const ops: Record<string, Op> = { ...kvOps(db), ...queueOps(db) };
const readChanges = changeReader(db);
const stmt = {
  begin: db.prepare('BEGIN IMMEDIATE'),
  beginRead: db.prepare('BEGIN'),
  commit: db.prepare('COMMIT'),
  rollback: db.prepare('ROLLBACK'),
  savepoint: db.prepare('SAVEPOINT op'),
  release: db.prepare('RELEASE op'),
  undo: db.prepare('ROLLBACK TO op'),
};

let pending: Request[] = [];
let scheduled = false;
let closing = false;
let watchers = 0;
let lastRev = 0;
let lastSweep = Date.now();

function schedule(): void {
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
}

/** Run one request in its savepoint; control requests (watch, close) are answered here. */
function runOne(now: number, req: Request): Reply {
  if (req.op === 'watch') {
    if (watchers++ === 0) lastRev = ops.kvRevision(now) as number;
    return { id: req.id, ok: true, value: ops.kvRevision(now) };
  }
  if (req.op === 'unwatch') {
    watchers = Math.max(0, watchers - 1);
    return { id: req.id, ok: true, value: null };
  }
  if (req.op === 'close') {
    closing = true;
    return { id: req.id, ok: true, value: null };
  }
  const op = ops[req.op];
  if (!op) return { id: req.id, ok: false, message: `unknown store operation ${req.op}` };
  stmt.savepoint.run();
  try {
    const value = (op as (now: number, ...args: unknown[]) => unknown)(now, ...req.args);
    stmt.release.run();
    return { id: req.id, ok: true, value };
  } catch (err) {
    stmt.undo.run();
    stmt.release.run();
    return { id: req.id, ok: false, message: (err as Error).message, code: (err as { code?: string }).code };
  }
}

function drain(): void {
  scheduled = false;
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) receive(m.message as Request[]);
  const batch = pending.length > MAX_BATCH ? pending.splice(0, MAX_BATCH) : pending;
  if (batch === pending) pending = [];
  const now = Date.now();
  if (now - lastSweep >= SWEEP_EVERY_MS && !closing) {
    lastSweep = now;
    batch.push({ id: -1, op: 'sweep', args: [KEEP_CHANGES_MS] });
    batch.push({ id: -1, op: 'qSweep', args: [] });
  }
  let replies: Reply[];
  if (batch.length > 0) {
    const readOnly = batch.every((r) => READS.has(r.op));
    try {
      (readOnly ? stmt.beginRead : stmt.begin).run();
      replies = batch.map((r) => runOne(now, r));
      stmt.commit.run();
    } catch (err) {
      // BEGIN failed (busy past the timeout, disk I/O) or COMMIT did: nothing of the batch holds.
      if (db.inTransaction) stmt.rollback.run();
      const message = `SQLite store ${init.path}: ${(err as Error).message}`;
      replies = batch.map((r) => ({ id: r.id, ok: false, message, code: (err as { code?: string }).code }));
    }
    replies = replies.filter((r) => r.id >= 0);
    if (replies.length > 0) post({ kind: 'replies', replies });
  }
  if (watchers > 0) pollChanges();
  if (pending.length > 0) schedule();
  else if (closing) {
    clearInterval(poller);
    clearInterval(sweeper);
    db.close();
    port.close();
  }
}

function pollChanges(): void {
  try {
    for (let rows: ChangeRow[] = readChanges(lastRev); rows.length > 0; rows = readChanges(lastRev)) {
      lastRev = rows[rows.length - 1].rev;
      post({ kind: 'changes', changes: rows });
    }
  } catch (err) {
    post({ kind: 'log', level: 'warn', message: `SQLite store ${init.path}: watch poll failed: ${(err as Error).message}` });
  }
}

/** The client posts the calls of one loop iteration as one array. */
function receive(calls: Request[]): void {
  for (const call of calls) pending.push(call);
}

port.on('message', (calls: Request[]) => {
  receive(calls);
  schedule();
});
// Other processes' changes are seen by polling; our own are seen right after each batch.
const poller = setInterval(() => {
  if (watchers > 0 && !scheduled) pollChanges();
}, init.pollMs);
// Maintenance rides on the next batch; an idle store gets one of its own.
const sweeper = setInterval(schedule, SWEEP_EVERY_MS);
post({ kind: 'ready' });
