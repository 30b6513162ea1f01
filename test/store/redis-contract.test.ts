// The shared contract suite (test/store/contract.ts) on RedisStore: one real redis-server
// (appendonly yes, appendfsync always) for the file, a fresh key prefix per case.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { RedisStore } from '../../core/store/redis';
import { buildIfStale } from '../helpers/cli-run';
import { startRedis } from '../helpers/redis';
import { storeContract } from './contract';

// The child processes of the suite open the compiled store.
buildIfStale();

t.test('redis contract', async (t) => {
  const srv = await startRedis(t);
  if (!srv) return;
  storeContract(t, {
    name: 'redis',
    async fresh(t) {
      const options = { url: srv.url, durability: 'strict' as const, prefix: `c${randomUUID()}:` };
      const store = new RedisStore(options);
      await store.open();
      t.teardown(() => store.close());
      return { store, spec: { backend: 'redis', options } };
    },
  });
});
