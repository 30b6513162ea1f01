import type Database from 'better-sqlite3';
import type { ChangeRow, KvRow } from './protocol';

/** A worker operation: runs inside the batch's transaction; `now` is the batch's clock. */
export type Op = (now: number, ...args: never[]) => unknown;

const SET = 0;
const DELETE = 1;

/** The byte-order successor of every key starting with `prefix`, or undefined for the empty prefix. */
export function prefixEnd(prefix: string): Buffer | undefined {
  const bytes = Buffer.from(prefix, 'utf8');
  let n = bytes.length;
  while (n > 0 && bytes[n - 1] === 0xff) n--;
  if (n === 0) return undefined;
  const end = Buffer.from(bytes.subarray(0, n));
  end[n - 1]++;
  return end;
}

/** Key-value, lock and change-log operations on one connection. */
export function kvOps(db: Database.Database): Record<string, Op> {
  const getRow = db.prepare<[string], KvRow>('SELECT key, value, version, expires_at FROM kv WHERE key = ?');
  const upsert = db.prepare(
    `INSERT INTO kv (key, value, version, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version, expires_at = excluded.expires_at`,
  );
  const del = db.prepare('DELETE FROM kv WHERE key = ?');
  const logChange = db.prepare('INSERT INTO changes (at, type, key, value) VALUES (?, ?, ?, ?)');
  // The upper bound is compared as text holding raw bytes: SQLite's BINARY collation is memcmp of
  // UTF-8, so this is the byte-order range of the prefix even when the bound is not valid UTF-8.
  const listBounded = db.prepare<[string, string, Buffer, number, number], KvRow>(
    `SELECT key, value, version, expires_at FROM kv WHERE key >= ? AND key > ? AND key < CAST(? AS TEXT)
       AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?`,
  );
  const listOpen = db.prepare<[string, string, number, number], KvRow>(
    `SELECT key, value, version, expires_at FROM kv WHERE key >= ? AND key > ?
       AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?`,
  );
  const seqRev = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'changes'");
  const lockTake = db.prepare(
    `INSERT INTO locks (name, token, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at WHERE locks.expires_at <= ?`,
  );
  const lockRenew = db.prepare('UPDATE locks SET expires_at = ? WHERE name = ? AND token = ?');
  const lockRelease = db.prepare('DELETE FROM locks WHERE name = ? AND token = ?');
  const pruneChanges = db.prepare('DELETE FROM changes WHERE at < ? AND rev < (SELECT max(rev) FROM changes)');
  const sweepKv = db.prepare('DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?');
  const sweepLocks = db.prepare('DELETE FROM locks WHERE expires_at <= ?');

  const live = (row: KvRow | undefined, now: number): KvRow | undefined =>
    row && (row.expires_at === null || row.expires_at > now) ? row : undefined;

  function write(now: number, key: string, value: string, ttlMs: number | undefined): number {
    const rev = Number(logChange.run(now, SET, key, value).lastInsertRowid);
    upsert.run(key, value, rev, ttlMs === undefined ? null : now + ttlMs);
    return rev;
  }

  return {
    kvGet: (now: number, key: string) => live(getRow.get(key), now),
    kvSet: (now: number, key: string, value: string, ttlMs?: number) => write(now, key, value, ttlMs),
    kvDelete(now: number, key: string) {
      const found = live(getRow.get(key), now);
      del.run(key);
      if (found) logChange.run(now, DELETE, key, null);
      return found !== undefined;
    },
    kvCas(now: number, key: string, expected: number, value: string, ttlMs?: number) {
      const current = live(getRow.get(key), now);
      if ((current?.version ?? 0) !== expected) return { ok: false, current };
      return { ok: true, version: write(now, key, value, ttlMs) };
    },
    /** Up to `limit` entries; one more row is read so that the caller knows whether another page exists. */
    kvList(now: number, prefix: string, after: string | undefined, limit: number) {
      // Keys have at least one character, so '' is below all of them (no cursor: no lower bound).
      const end = prefixEnd(prefix);
      return end ? listBounded.all(prefix, after ?? '', end, now, limit + 1) : listOpen.all(prefix, after ?? '', now, limit + 1);
    },
    /** The newest revision, for a watcher to start after. */
    kvRevision: () => seqRev.get()?.seq ?? 0,
    lockAcquire(now: number, name: string, token: string, ttlMs: number) {
      return lockTake.run(name, token, now + ttlMs, now).changes === 1;
    },
    lockRenew: (now: number, name: string, token: string, ttlMs: number) => lockRenew.run(now + ttlMs, name, token).changes === 1,
    lockRelease: (_now: number, name: string, token: string) => lockRelease.run(name, token).changes === 1,
    /** Drop what has expired, and change-log rows older than `keepChangesMs`. */
    sweep(now: number, keepChangesMs: number) {
      pruneChanges.run(now - keepChangesMs);
      sweepKv.run(now);
      sweepLocks.run(now);
    },
  };
}

/** Reads the change log after `rev`, oldest first. */
export function changeReader(db: Database.Database): (rev: number) => ChangeRow[] {
  const read = db.prepare<[number], ChangeRow>('SELECT rev, type, key, value FROM changes WHERE rev > ? ORDER BY rev LIMIT 1000');
  return (rev) => read.all(rev);
}
