import t, { type Test } from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGateway, definePlugin, type Gateway, type StateStore } from '../../app';
import { captureLogger, request } from '../helpers/servers';
import { tempDir } from '../helpers/gatehouse-process';

/**
 * The store as plugins reach it (`scope.store`): opened by the gateway at start when a plugin
 * took it, namespaced by plugin, surviving reloads, closed at shutdown; singleton tasks hold a
 * lock in it. Real SQLite files in a temp dir.
 */

/** Takes the store in create; `GET /<n>/<key>` answers the value its namespace holds for key. */
const keeper = (name: string) =>
  definePlugin({
    name,
    schema: { type: 'object', properties: { seed: { type: 'string' } }, additionalProperties: false },
    create(options: { seed?: string }, scope) {
      const store: StateStore = scope.store;
      return {
        async start() {
          if (options.seed) {
            await store.kv.set('greeting', options.seed);
            await store.queue.enqueue('jobs', { seed: options.seed });
          }
        },
        async handle(ctx) {
          const entry = await store.kv.get(ctx.path.slice(ctx.path.lastIndexOf('/') + 1));
          ctx.json(200, { plugin: name, value: entry?.value ?? null });
        },
      };
    },
  });

const plain = definePlugin({
  name: 'no-store',
  schema: { type: 'object' },
  create: () => ({ handle: (ctx) => ctx.json(200, { ok: true }) }),
});

const PLUGINS = [keeper('keeper-a'), keeper('keeper-b'), plain];

async function gateway(
  t: Test,
  config: Record<string, unknown>,
  logger = captureLogger('info').logger,
): Promise<{ gw: Gateway; url: string }> {
  const gw = await createGateway({
    config: { server: { http: { port: 0, host: '127.0.0.1' } }, log: { accessLog: false }, ...config },
    plugins: PLUGINS,
    logger,
  });
  t.teardown(() => gw.close(100));
  await gw.listen();
  return { gw, url: `http://127.0.0.1:${gw.addresses.http!.port}` };
}

const routes = (...plugins: Record<string, unknown>[]) => plugins.map((p, i) => ({ match: { path: `/${i}/` }, plugins: [p] }));

t.test('a plugin that takes scope.store gets a durable, namespaced store', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'nested', 'state.db');
  const { url } = await gateway(t, {
    store: `sqlite:${file}`,
    routes: routes({ 'keeper-a': { seed: 'from a' } }, { 'keeper-b': { seed: 'from b' } }),
  });
  t.ok(existsSync(file), 'the file and its missing parent directory were created at start');
  const a = await request(`${url}/0/greeting`);
  const b = await request(`${url}/1/greeting`);
  t.same(JSON.parse(a.body), { plugin: 'keeper-a', value: 'from a' }, 'keeper-a reads its own key');
  t.same(JSON.parse(b.body), { plugin: 'keeper-b', value: 'from b' }, 'keeper-b, writing the same key, did not overwrite a');
});

t.test('a proxy whose plugins never take the store writes no file', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'unused.db');
  const { url } = await gateway(t, { store: `sqlite:${file}`, routes: routes({ 'no-store': {} }) });
  t.equal((await request(`${url}/0/x`)).status, 200);
  t.notOk(existsSync(file), 'nothing opened the store');
});

t.test('the store survives reloads, and a changed store: is refused until a restart', async (t) => {
  const dir = tempDir(t);
  const config = (store: string, seed: string) => ({ store, routes: routes({ 'keeper-a': { seed } }) });
  const first = config(`sqlite:${join(dir, 'one.db')}`, 'v1');
  const gw = await createGateway({
    config: { server: { http: { port: 0, host: '127.0.0.1' } }, ...first },
    plugins: PLUGINS,
    logger: captureLogger().logger,
  });
  t.teardown(() => gw.close(100));
  await gw.listen();
  const url = `http://127.0.0.1:${gw.addresses.http!.port}`;
  // Reload through the config object the gateway was given (the way embedders reload).
  Object.assign(
    (gw as unknown as { options: { config: Record<string, unknown> } }).options.config,
    config(`sqlite:${join(dir, 'one.db')}`, 'v2'),
  );
  await gw.reload();
  t.same(JSON.parse((await request(`${url}/0/greeting`)).body).value, 'v2', 'the new generation wrote through the same store');
  Object.assign(
    (gw as unknown as { options: { config: Record<string, unknown> } }).options.config,
    config(`sqlite:${join(dir, 'two.db')}`, 'v3'),
  );
  await t.rejects(gw.reload(), {
    code: 'GH_ERR_RELOAD_FAILED',
    message: /store: changed from sqlite:.*one\.db .* to sqlite:.*two\.db.*restart/,
  });
  t.same(JSON.parse((await request(`${url}/0/greeting`)).body).value, 'v2', 'the previous generation serves on');
  t.notOk(existsSync(join(dir, 'two.db')), 'the refused store was never opened');
});

t.test('a store that cannot be opened refuses the start, naming it', async (t) => {
  const dir = tempDir(t);
  const blocker = join(dir, 'a-file');
  writeFileSync(blocker, 'not a directory');
  await t.rejects(
    createGateway({
      config: { store: `sqlite:${blocker}/state.db`, routes: routes({ 'keeper-a': {} }) },
      plugins: PLUGINS,
      logger: captureLogger().logger,
    }),
    { code: 'GH_ERR_STORE_OPEN', message: new RegExp(`state store cannot be opened: store sqlite:${blocker}/state\\.db`) },
  );
});

t.test('store operations are timed in /metrics by op and backend', async (t) => {
  const dir = tempDir(t);
  const token = 'store-metrics-token-0123456789';
  const { gw, url } = await gateway(t, {
    store: `sqlite:${join(dir, 'm.db')}`,
    admin: { port: 0, token },
    routes: routes({ 'keeper-a': { seed: 'x' } }),
  });
  await request(`${url}/0/greeting`);
  const metrics = await request(`http://127.0.0.1:${gw.addresses.admin!.port}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  t.match(metrics.body, /gatehouse_store_operation_seconds_count\{op="kv\.set",backend="sqlite"\} 1\n/, 'the seed write');
  t.match(metrics.body, /gatehouse_store_operation_seconds_count\{op="kv\.get",backend="sqlite"\} 1\n/, 'the read of the request');
  t.match(
    metrics.body,
    /gatehouse_store_queue_items\{queue="keeper-a\/jobs",state="ready"\} 1\n/,
    "the plugin's queue, under its namespace",
  );
  t.match(metrics.body, /gatehouse_store_queue_items\{queue="keeper-a\/jobs",state="dead"\} 0\n/, 'every state reported');
  t.match(metrics.body, /gatehouse_store_queue_oldest_age_seconds\{queue="keeper-a\/jobs"\} \d/, 'and its oldest age');
});
