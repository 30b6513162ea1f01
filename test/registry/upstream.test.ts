import t from 'tap';
import { join } from 'node:path';
import { createGateway, RegistryClient, validateConfig } from '../../app';
import { captureLogger, request, startBackend } from '../helpers/servers';
import { tempDir } from '../helpers/gatehouse-process';

/**
 * `upstreams: { x: { registry: name } }`: the upstream's targets follow the registry entry live
 * (no reload, no polling interval), on a real SQLite store.
 */

const TOKEN = 'registry-upstream-token-0123456789';

/** Poll until `check` holds, up to `ms`; resolves to how long it took, or -1. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await check()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  return -1;
}

t.test('a registry-backed upstream follows its entry: add, change, lapse, delete', async (t) => {
  const named = (name: string) => startBackend(t, (_req, res) => res.end(name));
  const [a, b] = await Promise.all([named('a'), named('b')]);
  const dir = tempDir(t);
  const gw = await createGateway({
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      admin: { port: 0, token: TOKEN },
      store: `sqlite:${join(dir, 'r.db')}`,
      registry: { deregisterAfterMs: 60000, reapEveryMs: 100 },
      log: { accessLog: false },
      upstreams: { annotator: { registry: 'annotator' } },
      routes: [{ match: { path: '/' }, upstream: 'annotator' }],
    },
    logger: captureLogger('warn').logger,
  });
  t.teardown(() => gw.close(100));
  await gw.listen();
  const url = `http://127.0.0.1:${gw.addresses.http!.port}/`;
  const client = new RegistryClient({ adminUrl: `http://127.0.0.1:${gw.addresses.admin!.port}`, token: TOKEN, retries: 0 });
  const body = async () => {
    const res = await request(url);
    return res.status === 200 ? res.body : `${res.status} ${JSON.parse(res.body).error.code}`;
  };

  t.equal(await body(), '503 GH_ERR_UPSTREAM_NO_TARGETS', 'no entry yet: 503 with a code');
  await client.add('annotator', { targets: [a.url] });
  const tookA = await within(1000, async () => (await body()) === 'a');
  t.ok(tookA >= 0, `an added entry takes traffic within a second (${tookA} ms)`);

  // Under load while the entry changes: every request answered by a live target.
  const answers: string[] = [];
  let running = true;
  const load = (async () => {
    while (running) answers.push(await body());
  })();
  await client.add('annotator', { targets: [a.url, b.url] });
  t.ok((await within(1000, async () => answers.slice(-10).includes('b'))) >= 0, 'a second target gets traffic');
  await client.add('annotator', { targets: [b.url] });
  const tookB = await within(1000, async () => answers.slice(-5).every((x) => x === 'b') && answers.length > 5);
  t.ok(tookB >= 0, `a removed target gets no new requests (${tookB} ms)`);
  running = false;
  await load;
  t.same(
    answers.filter((x) => x !== 'a' && x !== 'b'),
    [],
    `${answers.length} requests while targets were added and removed, none failed`,
  );

  await client.add('annotator', { targets: [a.url], ttlMs: 1000 });
  t.ok((await within(1000, async () => (await body()) === 'a')) >= 0, 'a leased entry takes traffic');
  const lapsed = await within(2500, async () => (await body()) === '503 GH_ERR_UPSTREAM_NO_TARGETS');
  t.ok(lapsed >= 0, `once its lease lapses (no heartbeat) it gets none (${lapsed} ms)`);
  await client.heartbeat('annotator');
  t.ok((await within(1000, async () => (await body()) === 'a')) >= 0, 'a heartbeat brings it back');

  await client.delete('annotator');
  t.ok((await within(1000, async () => (await body()) === '503 GH_ERR_UPSTREAM_NO_TARGETS')) >= 0, 'deleted: no targets again');
});

t.test('a registry-backed upstream is checked by validate', async (t) => {
  const cases = [
    {
      desc: 'without registry: in the config',
      config: { upstreams: { u: { registry: 'svc' } } },
      message: /\/upstreams\/u\/registry: needs the service registry/,
    },
    {
      desc: 'with targets as well',
      config: { registry: {}, upstreams: { u: { registry: 'svc', targets: ['http://127.0.0.1:1'] } } },
      message: /\/upstreams\/u\/registry: takes its targets from the registry/,
    },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      t.throws(() => validateConfig({ ...c.config, routes: [{ match: { path: '/' }, upstream: 'u' }] }), {
        code: 'GH_ERR_CONFIG_INVALID',
        message: c.message,
      });
    });
  }
  t.doesNotThrow(
    () => validateConfig({ registry: {}, upstreams: { u: { registry: 'svc' } }, routes: [{ match: { path: '/' }, upstream: 'u' }] }),
    'registry: and registry-backed: valid',
  );
});
