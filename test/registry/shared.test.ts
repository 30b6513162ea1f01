import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../../app';
import { startGatehouse, tempDir } from '../helpers/gatehouse-process';

/**
 * Two gatehouse processes on one store see each other's registry writes: an add through one
 * wakes a blocking read on the other within 1 s (the store's cross-process watch). SQLite here:
 * two real processes on one file; the Redis contract suite proves the same watch across hosts.
 */

const TOKEN = 'registry-shared-token-0123456789';

t.test('an add through one gatehouse reaches a blocking read on another within 1 s', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(
    file,
    `server: { http: { port: 0, host: 127.0.0.1 } }\nadmin: { port: 0, token: ${TOKEN} }\nstore: sqlite:./shared.db\nregistry: {}\nlog: { level: info, accessLog: false }\nroutes:\n  - plugins: [respond: {}]\n`,
  );
  const [one, two] = [await startGatehouse(t, file), await startGatehouse(t, file)];
  const client = (p: { adminPort?: number }) =>
    new RegistryClient({ adminUrl: `http://127.0.0.1:${p.adminPort}`, token: TOKEN, retries: 0 });
  const a = client(one);
  const b = client(two);
  for (let i = 0; i < 5; i++) {
    const watcher = b.watch({ waitMs: 5000 });
    // The first yield is the registry now; the next one follows a change.
    await watcher.next();
    const sent = Date.now();
    await a.add(`svc-${i}`, { targets: [`http://127.0.0.1:${5000 + i}`] });
    const seen = await watcher.next();
    const took = Date.now() - sent;
    t.ok(took < 1000, `change ${i} seen by the other process after ${took} ms`);
    t.ok(
      (seen.value as { services: { name: string }[] }).services.some((s) => s.name === `svc-${i}`),
      'with the new entry',
    );
    await watcher.return(undefined);
  }
  t.equal((await b.get('svc-3'))?.info.targets?.[0], 'http://127.0.0.1:5003', 'a read through the other process sees it too');
});
