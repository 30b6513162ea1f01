import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { SqliteStore } from '../../core/store/sqlite';
import { buildIfStale, ROOT } from '../helpers/cli-run';
import { storeContract } from './contract';

// The contract runs on the compiled store, as the child processes do (their worker thread would
// otherwise load TypeScript again for every fresh store); one case below opens the source.
buildIfStale();
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known only at run time
const Compiled = (require(join(ROOT, 'dist/core/store/sqlite/index.js')) as { SqliteStore: typeof SqliteStore }).SqliteStore;

storeContract(t, {
  name: 'sqlite',
  async fresh(t) {
    const dir = mkdtempSync(join(tmpdir(), 'gh-store-'));
    const options = { path: join(dir, 'sub', 'store.db'), durability: 'strict' as const };
    const store = new Compiled(options);
    await store.open();
    t.teardown(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { store, spec: { backend: 'sqlite', options } };
  },
});

interface OpenCase {
  desc: string;
  /** Prepare the directory; returns the store path. */
  setup(dir: string): string;
  durability: 'strict' | 'relaxed';
  /** undefined: opens; otherwise the error message must match. */
  fails?: RegExp;
  /** PRAGMA values expected on the file after open. */
  pragmas?: { journal_mode: string; user_version: number };
}

const openCases: OpenCase[] = [
  {
    desc: 'creates missing parent directories, WAL, schema version 1',
    setup: (dir) => join(dir, 'a', 'b', 'c', 'store.db'),
    durability: 'strict',
    pragmas: { journal_mode: 'wal', user_version: 1 },
  },
  {
    desc: 'relaxed durability opens the same schema',
    setup: (dir) => join(dir, 'relaxed.db'),
    durability: 'relaxed',
    pragmas: { journal_mode: 'wal', user_version: 1 },
  },
  {
    desc: 'a parent that is a file: refused, naming the path',
    setup(dir) {
      writeFileSync(join(dir, 'file'), 'x');
      return join(dir, 'file', 'store.db');
    },
    durability: 'strict',
    fails: /^SQLite store \/.*\/file\/store\.db: cannot open: .*(EEXIST|ENOTDIR)/,
  },
  {
    desc: 'a file that is not a database: refused, naming the path',
    setup(dir) {
      writeFileSync(join(dir, 'junk.db'), 'this is not sqlite, '.repeat(400));
      return join(dir, 'junk.db');
    },
    durability: 'strict',
    fails: /^SQLite store \/.*junk\.db: cannot open: file is not a database/,
  },
  {
    desc: 'a file written by a newer schema: refused, naming the path and the versions',
    setup(dir) {
      const db = new Database(join(dir, 'newer.db'));
      db.pragma('user_version = 99');
      db.close();
      return join(dir, 'newer.db');
    },
    durability: 'strict',
    fails: /^SQLite store \/.*newer\.db: cannot open: schema version 99 is newer than this gatehouse knows \(1\)/,
  },
];

t.test('sqlite: open', async (t) => {
  for (const c of openCases) {
    t.test(c.desc, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'gh-store-open-'));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      const path = c.setup(dir);
      const store = new Compiled({ path, durability: c.durability });
      if (c.fails) {
        await t.rejects(store.open(), c.fails);
        await store.close();
        return;
      }
      await store.open();
      t.teardown(() => store.close());
      await store.kv.set('k', 1);
      const db = new Database(path, { readonly: true });
      t.teardown(() => db.close());
      t.same(
        { journal_mode: db.pragma('journal_mode', { simple: true }), user_version: db.pragma('user_version', { simple: true }) },
        c.pragmas,
      );
      t.equal((await store.kv.get('k'))?.value, 1);
    });
  }
});

t.test('sqlite: runs from the TypeScript source too (worker.ts under the TS loader)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-store-src-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new SqliteStore({ path: join(dir, 'src.db'), durability: 'strict' });
  await store.open();
  t.teardown(() => store.close());
  t.equal((await store.queue.enqueue('q', 1, { id: 'a' })).duplicate, false);
  t.equal((await store.queue.get('q', 'a'))?.state, 'ready');
});

t.test('sqlite: calls after close are refused; close twice is harmless', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-store-close-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new Compiled({ path: join(dir, 'c.db'), durability: 'strict' });
  await store.open();
  const pending = Array.from({ length: 50 }, (_, i) => store.queue.enqueue('q', i));
  await store.close();
  t.equal((await Promise.all(pending)).length, 50, 'writes asked for before close finished');
  await store.close();
  await t.rejects(store.kv.get('x'), /is not open/);
  const again = new Compiled({ path: join(dir, 'c.db'), durability: 'strict' });
  await again.open();
  t.teardown(() => again.close());
  t.equal((await again.queue.stats('q')).ready, 50, 'and are on disk');
});
