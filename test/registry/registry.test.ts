import t, { type Test } from 'tap';
import http from 'node:http';
import { join } from 'node:path';
import { createGateway, RegistryClient, type Gateway } from '../../app';
import { captureLogger, request } from '../helpers/servers';
import { tempDir } from '../helpers/gatehouse-process';

/**
 * The service registry on the admin listener (core/registry), against a real SQLite store:
 * PhysarumSM's four operations with their edge cases, leases, blocking reads, the event stream.
 */

const TOKEN = 'registry-admin-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

async function gateway(t: Test, registry: Record<string, unknown> = {}): Promise<{ gw: Gateway; admin: string; client: RegistryClient }> {
  const dir = tempDir(t);
  const gw = await createGateway({
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      admin: { port: 0, token: TOKEN },
      store: `sqlite:${join(dir, 'registry.db')}`,
      registry,
      log: { accessLog: false },
      routes: [{ match: { path: '/' }, plugins: [{ respond: { body: 'ok' } }] }],
    },
    logger: captureLogger('warn').logger,
  });
  t.teardown(() => gw.close(100));
  await gw.listen();
  const admin = `http://127.0.0.1:${gw.addresses.admin!.port}`;
  return { gw, admin, client: new RegistryClient({ adminUrl: admin, token: TOKEN, retries: 0 }) };
}

const call = (admin: string, method: string, path: string, body?: string, headers: Record<string, string> = AUTH) =>
  request(`${admin}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body,
  });

const INFO = {
  ContentHash: 'Qm123',
  DockerHash: 'sha256:abc',
  NetworkSoftReq: { RTT: 40 },
  NetworkHardReq: { RTT: 100 },
  CpuReq: 2,
  MemoryReq: 512,
};

t.test("the original's operations and their edge cases", async (t) => {
  const { admin } = await gateway(t);
  const cases: { desc: string; method: string; path: string; body?: string; status: number; check?: (body: any) => void }[] = [
    {
      desc: 'get of an absent entry: 404 with a code',
      method: 'GET',
      path: '/registry/services/annotator',
      status: 404,
      check: (b) => t.equal(b.error.code, 'GH_ERR_REGISTRY_NOT_FOUND'),
    },
    {
      desc: 'add',
      method: 'PUT',
      path: '/registry/services/annotator',
      body: JSON.stringify(INFO),
      status: 200,
      check: (b) => t.match(b, { name: 'annotator', status: 'passing', info: INFO }),
    },
    {
      desc: 'add again overwrites (a put)',
      method: 'PUT',
      path: '/registry/services/annotator',
      body: JSON.stringify({ ...INFO, CpuReq: 4, targets: ['http://127.0.0.1:5001'] }),
      status: 200,
      check: (b) => t.equal(b.info.CpuReq, 4),
    },
    {
      desc: 'get trims surrounding whitespace',
      method: 'GET',
      path: `/registry/services/${encodeURIComponent('  annotator ')}`,
      status: 200,
      check: (b) => t.equal(b.info.CpuReq, 4),
    },
    { desc: 'a prefix of a name is not a match', method: 'GET', path: '/registry/services/annot', status: 404 },
    {
      desc: 'malformed JSON writes nothing',
      method: 'PUT',
      path: '/registry/services/broken',
      body: '{"CpuReq": ',
      status: 400,
      check: (b) => t.match(b.error, { code: 'GH_ERR_REGISTRY_INVALID', message: /not JSON/ }),
    },
    { desc: '… and the entry is absent', method: 'GET', path: '/registry/services/broken', status: 404 },
    {
      desc: 'an unknown field is named, nothing written',
      method: 'PUT',
      path: '/registry/services/typo',
      body: JSON.stringify({ CpuRequest: 2 }),
      status: 400,
      check: (b) => t.match(b.error.message, /unknown field "CpuRequest"/),
    },
    {
      desc: 'a target that is not an http URL is refused',
      method: 'PUT',
      path: '/registry/services/typo',
      body: JSON.stringify({ targets: ['ftp://x'] }),
      status: 400,
      check: (b) => t.match(b.error.message, /\/targets\/0/),
    },
    {
      desc: 'list shows the entry',
      method: 'GET',
      path: '/registry/services',
      status: 200,
      check: (b) =>
        t.same(
          b.services.map((s: any) => s.name),
          ['annotator'],
        ),
    },
    { desc: 'delete', method: 'DELETE', path: '/registry/services/annotator', status: 200, check: (b) => t.same(b, { deleted: 1 }) },
    { desc: 'delete twice: nothing deleted, 404', method: 'DELETE', path: '/registry/services/annotator', status: 404 },
    { desc: 'without the token: 401', method: 'GET', path: '/registry/services', status: 401 },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const res = await call(admin, c.method, c.path, c.body, c.status === 401 ? {} : AUTH);
      t.equal(res.status, c.status, `${c.method} ${c.path}: ${res.body.slice(0, 200)}`);
      c.check?.(JSON.parse(res.body));
    });
  }
});

t.test('a lease lapses to critical, a heartbeat renews it, and a lapsed entry is removed', async (t) => {
  const { client } = await gateway(t, { deregisterAfterMs: 600, reapEveryMs: 100 });
  await client.add('worker', { ttlMs: 1000, targets: ['http://127.0.0.1:5001'] });
  t.equal((await client.get('worker'))?.status, 'passing', 'passing within its lease');
  await new Promise((r) => setTimeout(r, 1100));
  t.equal((await client.get('worker'))?.status, 'critical', 'critical once the lease lapsed');
  t.equal((await client.heartbeat('worker')).status, 'passing', 'a heartbeat makes it passing again');
  await new Promise((r) => setTimeout(r, 2200));
  t.equal(await client.get('worker'), undefined, 'removed deregisterAfterMs after turning critical');
  await t.rejects(client.heartbeat('worker'), { code: 'GH_ERR_REGISTRY_NOT_FOUND', status: 404 }, 'a heartbeat for a removed entry: 404');
});

t.test('blocking reads return on a change, or when the wait ends', async (t) => {
  const { admin, client } = await gateway(t);
  await client.add('a', {});
  const first = await call(admin, 'GET', '/registry/services');
  const index = Number(first.headers['x-gatehouse-index']);
  t.ok(index > 0, `an index (${index})`);
  await t.test('no change: answered after the wait, same index', async (t) => {
    const started = Date.now();
    const res = await call(admin, 'GET', `/registry/services?index=${index}&wait=700ms`);
    const took = Date.now() - started;
    t.ok(took >= 650 && took < 2000, `waited about 700 ms (+ up to 1/16 jitter): ${took} ms`);
    t.equal(Number(res.headers['x-gatehouse-index']), index);
  });
  await t.test('a change: answered at once with the new entry and a higher index', async (t) => {
    const started = Date.now();
    const waiting = call(admin, 'GET', `/registry/services?index=${index}&wait=10s`);
    setTimeout(() => void client.add('b', {}), 200);
    const res = await waiting;
    t.ok(Date.now() - started < 2000, `returned ${Date.now() - started} ms after the read began`);
    t.ok(Number(res.headers['x-gatehouse-index']) > index, 'the index moved');
    t.same(
      JSON.parse(res.body).services.map((s: any) => s.name),
      ['a', 'b'],
    );
  });
  await t.test('a bad wait is a 400', async (t) => {
    t.equal((await call(admin, 'GET', `/registry/services?index=${index}&wait=soon`)).status, 400);
  });
});

t.test('the event stream sends a snapshot, then each change', async (t) => {
  const { admin, client } = await gateway(t);
  await client.add('first', {});
  const events: { event: string; data: any }[] = [];
  const req = http.get(`${admin}/registry/events`, { headers: AUTH });
  t.teardown(() => req.destroy());
  const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
  t.match(res.headers['content-type'], /^text\/event-stream/);
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
  });
  const until = async (n: number) => {
    for (let i = 0; i < 100 && events.length < n; i++) await new Promise((r) => setTimeout(r, 20));
  };
  await until(1);
  t.same(
    events[0]?.data.services.map((s: any) => s.name),
    ['first'],
    'a snapshot of what is there',
  );
  await client.add('second', { tags: ['gpu'] });
  await client.delete('first');
  await until(3);
  t.same(
    events.slice(1).map((e) => [e.event, e.data.name]),
    [
      ['put', 'second'],
      ['delete', 'first'],
    ],
    'then each change, in order',
  );
});

t.test('without registry: in the config the endpoints say it is off', async (t) => {
  const dir = tempDir(t);
  const gw = await createGateway({
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      admin: { port: 0, token: TOKEN },
      store: `sqlite:${join(dir, 'x.db')}`,
      routes: [{ match: { path: '/' }, plugins: [{ respond: {} }] }],
    },
    logger: captureLogger('warn').logger,
  });
  t.teardown(() => gw.close(100));
  await gw.listen();
  const res = await call(`http://127.0.0.1:${gw.addresses.admin!.port}`, 'GET', '/registry/services');
  t.equal(res.status, 404);
  t.equal(JSON.parse(res.body).error.code, 'GH_ERR_REGISTRY_OFF');
});

t.test('metrics: entries by status and operations by outcome', async (t) => {
  const { admin, client } = await gateway(t);
  await client.add('m1', { ttlMs: 60000 });
  await client.add('m2', {});
  await client.get('absent');
  const body = (await call(admin, 'GET', '/metrics')).body;
  t.match(body, /gatehouse_registry_entries\{status="passing"\} 2\n/, 'two passing entries');
  t.match(body, /gatehouse_registry_entries\{status="critical"\} 0\n/, 'none critical');
  t.match(body, /gatehouse_registry_operations_total\{op="put",outcome="ok"\} 2\n/, 'two puts');
  t.match(body, /gatehouse_registry_operations_total\{op="get",outcome="not-found"\} 1\n/, 'one get of an absent entry');
});
