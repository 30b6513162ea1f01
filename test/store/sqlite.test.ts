import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SqliteStore } from '../../core/store/sqlite';
import { buildIfStale, ROOT } from '../helpers/cli-run';
import { storeContract } from './contract';

// The contract runs on the compiled store, as the child processes do (their worker thread would
// otherwise load TypeScript again for every fresh store); one case below opens the source.
buildIfStale();
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
