import type Database from 'better-sqlite3';

/**
 * The schema's version, kept in SQLite's `user_version`. A file written by a newer gatehouse
 * (higher version) is refused rather than misread.
 */
export const SCHEMA_VERSION = 1;

// Item states as stored. `waiting` is ready or delayed depending on due_at; `leased` with a past
// due_at is an expired lease, reclaimed by the next lease/get/stats of its queue.
export const WAITING = 0;
export const LEASED = 1;
export const ACKED = 2;
export const DEAD = 3;

const V1 = `
CREATE TABLE kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  version INTEGER NOT NULL,
  expires_at INTEGER
) WITHOUT ROWID;
CREATE INDEX kv_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;
-- One row per kv write: its rowid is the store-wide revision (AUTOINCREMENT: never reused after
-- pruning), and other processes poll it for watch.
CREATE TABLE changes (
  rev INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  type INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT
);
CREATE INDEX changes_at ON changes (at);
-- seq (the rowid) is the enqueue order, which orders groups and ties of due_at.
CREATE TABLE items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  state INTEGER NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  enqueued_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  grp TEXT,
  token TEXT,
  last_error TEXT,
  result TEXT,
  ended_at INTEGER,
  retain_ms INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX items_id ON items (queue, id);
CREATE INDEX items_due ON items (queue, state, due_at, seq);
CREATE INDEX items_group ON items (queue, grp, seq) WHERE grp IS NOT NULL;
CREATE INDEX items_ended ON items (state, ended_at) WHERE state = ${ACKED};
CREATE INDEX items_dead ON items (queue, state, ended_at, seq) WHERE state = ${DEAD};
CREATE TABLE locks (
  name TEXT PRIMARY KEY,
  token TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Create or upgrade the tables. Runs in one IMMEDIATE transaction so that two processes opening a
 * new file at once do not both create it.
 */
export function migrate(db: Database.Database): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`schema version ${version} is newer than this gatehouse knows (${SCHEMA_VERSION}); upgrade gatehouse`);
    }
    if (version < 1) db.exec(V1);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}
