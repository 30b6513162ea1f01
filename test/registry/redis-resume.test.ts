import t from 'tap';
import Redis from 'ioredis';
import { createGateway } from '../../app';
import { openRedisStore, startRedis } from '../helpers/redis';
import { captureLogger, request, startBackend } from '../helpers/servers';

/**
 * A change made while a gateway's pub/sub connection was down is not published to it; when its
 * watch resumes, the registry lists again and the upstreams following an entry read it again,
 * so the gateway routes by the change without waiting for the next one.
 */

async function until(what: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

t.test('a registry change missed while the watch was down is caught up when it resumes', async (t) => {
  const srv = await startRedis(t);
  if (!srv) return;
  const one = await startBackend(t, (_req, res) => res.end('one'));
  const two = await startBackend(t, (_req, res) => res.end('two'));
  const { logger, lines } = captureLogger('info');
  const gw = await createGateway({
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      store: { url: srv.url, prefix: 'resume:' },
      registry: {},
      log: { accessLog: false },
      upstreams: { svc: { registry: 'svc' } },
      routes: [{ match: { path: '/' }, upstream: 'svc' }],
    },
    logger,
  });
  t.teardown(() => gw.close(100));
  await gw.listen();
  const url = `http://127.0.0.1:${gw.addresses.http!.port}/`;
  // Another instance's writes, straight to the store under the gateway's core namespace.
  const other = await openRedisStore(t, srv.url, 'resume:');
  const put = (target: string) =>
    other.kv.set('_core/registry/services/svc', { name: 'svc', info: { targets: [target] }, registeredAt: 1, renewedAt: Date.now() });
  await put(one.url);
  t.ok(await until(async () => (await request(url)).body === 'one', 3000), 'routes by the entry (watch live)');

  const admin = new Redis(srv.url);
  t.teardown(() => admin.disconnect());
  // Cut the subscriber and write before it is back (its first reconnect waits 100 ms).
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
  await put(two.url);
  const start = Date.now();
  t.ok(await until(async () => (await request(url)).body === 'two', 5000), `routes by the missed change after ${Date.now() - start} ms`);
  const resumed = lines.find((l) => l.msg === 'registry watch resumed; entries read again');
  t.match(resumed, { newer: 1 }, 'it came from the re-read, not from pub/sub');
});
