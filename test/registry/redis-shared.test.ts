import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../../app';
import { startGatehouse, tempDir, until } from '../helpers/gatehouse-process';
import { startRedis } from '../helpers/redis';
import { request, startBackend } from '../helpers/servers';

/**
 * Two gatehouse processes sharing a real redis-server: an entry added through one's admin API is
 * routed by the other within 1 s (its registry-backed upstream follows the store's pub/sub watch).
 */

const TOKEN = 'registry-redis-token-0123456789';

t.test('an add through one gatehouse is routed by another on the same Redis within 1 s', async (t) => {
  const srv = await startRedis(t);
  if (!srv) return;
  const backends = await Promise.all([0, 1, 2, 3, 4].map((i) => startBackend(t, (_req, res) => res.end(`backend ${i}`))));
  const dir = tempDir(t);
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(
    file,
    [
      'server: { http: { port: 0, host: 127.0.0.1 } }',
      `admin: { port: 0, token: ${TOKEN} }`,
      `store: { url: "${srv.url}", prefix: "shared:" }`,
      'registry: {}',
      'log: { level: info, accessLog: false }',
      'upstreams: { svc: { registry: svc } }',
      'routes:',
      '  - match: { path: / }',
      '    upstream: svc',
      '',
    ].join('\n'),
  );
  const [one, two] = [await startGatehouse(t, file), await startGatehouse(t, file)];
  const writer = new RegistryClient({ adminUrl: `http://127.0.0.1:${one.adminPort}`, token: TOKEN, retries: 0 });
  const viaTwo = async () => (await request(`http://127.0.0.1:${two.port}/`)).body;
  t.match(await viaTwo(), /GH_ERR_UPSTREAM_NO_TARGETS/, 'no entry yet: the other process has no targets');
  for (const [i, be] of backends.entries()) {
    const sent = Date.now();
    await writer.add('svc', { targets: [be.url] });
    const routed = await until(async () => (await viaTwo()) === `backend ${i}`, 2000, 10).then(
      () => true,
      () => false,
    );
    const took = routed ? Date.now() - sent : -1;
    t.ok(took >= 0 && took < 1000, `change ${i}: routed by the other process after ${took} ms`);
  }
  await writer.delete('svc');
  const sent = Date.now();
  await until(async () => /NO_TARGETS/.test(await viaTwo()), 2000, 10).catch(() => undefined);
  t.match(await viaTwo(), /GH_ERR_UPSTREAM_NO_TARGETS/, `a delete reaches it too (${Date.now() - sent} ms)`);
});
