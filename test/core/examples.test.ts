import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import t from 'tap';
import { createGateway, loadConfig, type Gateway } from '../../app';
import { echo, request, startBackend, testLogger, type Teardown } from '../helpers/servers';

const EXAMPLES = resolve(__dirname, '../../examples');
const CUSTOM = join(EXAMPLES, 'custom-plugin');
const PLUGIN = join(CUSTOM, 'add-headers.ts');

/** Every config file under examples/ (YAML or JSON, at any depth). */
const configs = (readdirSync(EXAMPLES, { recursive: true }) as string[])
  .filter((f) => /\.(ya?ml|json)$/.test(f) && !/(^|[\\/])(package|tsconfig)[^\\/]*\.json$/.test(f) && !f.includes('node_modules'))
  .map((f) => join(EXAMPLES, f))
  .sort();

t.test('the examples are found', async (t) => {
  const names = configs.map((f) => relative(EXAMPLES, f));
  t.ok(names.includes(join('quick-start', 'gatehouse.yaml')), 'quick start');
  t.ok(names.includes(join('custom-plugin', 'gatehouse.yaml')), 'custom plugin');
});

for (const file of configs) {
  t.test(`${relative(EXAMPLES, file)} validates`, async (t) => {
    // With no environment at all: every placeholder has a default.
    const loaded = await loadConfig(file, { env: {} });
    t.ok(loaded.config.routes.length > 0, 'has routes');
    t.ok(Object.isFrozen(loaded.config));
    // And with the variables a deployment would set.
    const env = {
      PORT: '18080',
      ADMIN_PORT: '0',
      BACKEND_URL: 'http://10.0.0.5:9000',
      DEMO_BACKEND_PORT: '9000',
      GATEHOUSE_ADMIN_TOKEN: 'a-token-of-24-characters',
      LOG_LEVEL: 'warn',
    };
    const withEnv = await loadConfig(file, { env });
    t.equal(withEnv.config.server.http?.port, 18080, 'PORT is a number');
  });
}

/** A gateway from an example's config file, closed when `t` ends. */
async function exampleGateway(t: Teardown, file: string, env: Record<string, string>): Promise<{ gw: Gateway; url: string }> {
  const gw = await createGateway({ config: file, env, logger: testLogger() });
  t.teardown(() => gw.close(100));
  await gw.listen();
  return { gw, url: `http://127.0.0.1:${gw.addresses.http!.port}` };
}

t.test('quick start: health check answered by gatehouse, the rest proxied', async (t) => {
  const be = await startBackend(t);
  const { url } = await exampleGateway(t, join(EXAMPLES, 'quick-start', 'gatehouse.yaml'), {
    PORT: '0',
    ADMIN_PORT: '0',
    DEMO_BACKEND_PORT: String(be.port),
  });
  const hc = await request(`${url}/connection/hc`);
  t.equal(hc.status, 200);
  t.equal(hc.body, 'OK');
  const proxied = await request(`${url}/hello?x=1`);
  t.equal(proxied.status, 200);
  t.equal(JSON.parse(proxied.body).url, '/hello?x=1');
  t.equal(proxied.headers['x-backend'], 'echo');
});

t.test('custom plugin: the TypeScript plugin loaded by path changes requests and responses', async (t) => {
  const be = await startBackend(t, (req, res) => {
    res.setHeader('x-content-type-options', 'from-upstream');
    echo(req, res);
  });
  const { gw, url } = await exampleGateway(t, join(CUSTOM, 'gatehouse.yaml'), { PORT: '0', BACKEND_URL: be.url });

  const res = await request(`${url}/things/1`, { headers: { 'x-request-id': 'abc-123', 'x-gateway': 'spoofed' } });
  t.equal(res.status, 200);
  const seen = JSON.parse(res.body);
  t.equal(seen.url, '/things/1');
  t.equal(seen.headers['x-gateway'], 'gatehouse', 'request header added (override: true replaces the client value)');
  t.equal(seen.headers['x-client-ip'], '127.0.0.1', '{clientIp} filled in');
  t.equal(seen.headers['x-request-id'], 'abc-123', 'a sane client request id is kept');
  t.equal(res.headers['x-request-id'], 'abc-123', 'and returned to the client');
  t.equal(res.headers['x-served-by'], 'gatehouse (api)', '{route} filled in');
  t.equal(res.headers['x-content-type-options'], 'nosniff', 'the upstream value is replaced');
  t.equal(res.headers['strict-transport-security'], 'max-age=31536000');
  t.match(res.headers['server-timing'], /^upstream;dur=\d+(\.\d)?;desc="backend"$/, 'the JavaScript plugin ran too');

  const other = await request(`${url}/`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
  const id = other.headers['x-request-id'];
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'an unusable id is replaced by a UUID');
  t.equal(JSON.parse(other.body).headers['x-request-id'], id, 'the upstream saw the same id');

  const metrics = await gw.metrics.registry.metrics();
  t.match(
    metrics,
    /gatehouse_add_headers_responses_total\{route="api",instance="add-headers#1"\} 2/,
    'the plugin counts under its own prefix',
  );
});

t.test('custom plugin: override: false keeps headers already present', async (t) => {
  const be = await startBackend(t, (req, res) => {
    res.setHeader('x-frame-options', 'SAMEORIGIN');
    echo(req, res);
  });
  const dir = t.testdir({
    'gatehouse.yaml': `server:\n  http: { port: 0, host: 127.0.0.1 }\nupstreams:\n  be: { targets: ["${be.url}"] }\nroutes:\n  - upstream: be\n    plugins:\n      - ${PLUGIN}:\n          override: false\n          request: { x-tenant: default }\n          response: { x-frame-options: DENY, x-extra: "yes" }\n`,
  });
  const { url } = await exampleGateway(t, join(dir, 'gatehouse.yaml'), {});
  const res = await request(`${url}/`, { headers: { 'x-tenant': 'acme' } });
  t.equal(JSON.parse(res.body).headers['x-tenant'], 'acme', 'client header kept');
  t.equal(res.headers['x-frame-options'], 'SAMEORIGIN', 'upstream header kept');
  t.equal(res.headers['x-extra'], 'yes', 'missing header added');
  t.notOk(res.headers['x-request-id'], 'no request id unless asked for');
});

t.test('custom plugin: its schema rejects bad options with the plugin name and path', async (t) => {
  const dir = t.testdir({
    'gatehouse.yaml': `routes:\n  - match: { path: / }\n    plugins:\n      - ${PLUGIN}:\n          response: { "bad header": x }\n          requestid: x-id\n      - respond: {}\n`,
  });
  const err = await loadConfig(join(dir, 'gatehouse.yaml'), { env: {} }).then(
    () => undefined,
    (e: Error & { code?: string; details?: string[] }) => e,
  );
  t.equal(err?.code, 'GH_ERR_CONFIG_INVALID');
  t.match(
    err?.message,
    `unknown key "requestid"; did you mean "requestId"? Expected one of: request, response, override, requestId (plugin add-headers)`,
  );
  t.match(
    err?.message,
    /gatehouse\.yaml:5:\d+ \/routes\/0\/plugins\/0\/.+add-headers\.ts\/response: found "bad header", expected it to match pattern .+ \(plugin add-headers\)/,
  );
  t.equal(err?.details?.length, 2, 'both problems, nothing else');
});
