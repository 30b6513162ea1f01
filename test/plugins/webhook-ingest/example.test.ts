import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import t from 'tap';
import { createGateway } from '../../../app';
import { tempDir } from '../../helpers/gatehouse-process';
import { request, testLogger } from '../../helpers/servers';
import { eventually } from './harness';

const DIR = resolve(__dirname, '../../../examples/rockblock');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the example's own plain-JS backend
const { startBackend } = require(join(DIR, 'backend.js')) as {
  startBackend(
    port: number,
    log: (line: string) => void,
  ): Promise<{ server: import('node:http').Server; processed: Map<string, Record<string, string>> }>;
};

t.test('examples/rockblock: the sample delivery is answered 200 OK, delivered and processed once', async (t) => {
  const lines: string[] = [];
  const { server, processed } = await startBackend(0, (l) => lines.push(l));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const env = {
    PORT: '0',
    ADMIN_PORT: '0',
    BACKEND_URL: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    STORE_FILE: join(tempDir(t, 'rockblock-example-'), 'gatehouse.db'),
  };
  const gw = await createGateway({ config: join(DIR, 'gatehouse.yaml'), env, logger: testLogger() });
  await gw.listen();
  t.teardown(() => gw.close(100));
  const url = `http://127.0.0.1:${gw.addresses.http!.port}`;
  const sample = readFileSync(join(DIR, 'sample-delivery.txt'));
  const headers = { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Rock7PushApi' };
  for (let i = 0; i < 2; i++) {
    const r = await request(`${url}/rockblock/incoming`, { method: 'POST', headers, body: sample });
    t.equal(r.status, 200);
    t.equal(r.body, 'OK');
  }
  await eventually(() => processed.size === 1);
  t.same(lines, ['message 300434062099430/66 (attempt 1): There are 10 types of people who understand binary']);
  const altered = await request(`${url}/rockblock/incoming`, {
    method: 'POST',
    headers,
    body: sample.toString().replace('momsn=66', 'momsn=65'),
  });
  t.equal(altered.status, 401, 'an altered delivery is refused');
  const hc = await request(`${url}/connection/hc`);
  t.equal(hc.body, 'OK');
});
