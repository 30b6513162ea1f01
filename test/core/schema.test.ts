import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import t from 'tap';
import { fullSchema } from '../../core/config/full-schema';
import { builtinPlugins } from '../../plugins';

const FILE = resolve(__dirname, '../../config.schema.json');
/** Exactly what `gatehouse schema > config.schema.json` writes (console.log adds the newline). */
const expected = `${JSON.stringify(fullSchema(builtinPlugins), null, 2)}\n`;

const HOW = `config.schema.json is out of date with core/config/schema.ts and the built-in plugin schemas.
Regenerate it with either of:
  GATEHOUSE_WRITE_SCHEMA=1 npx tap test/core/schema.test.ts      (no build needed)
  npx tsc -p . && node bin/gatehouse.js schema > config.schema.json
and commit the result.`;

t.test('config.schema.json is what `gatehouse schema` generates', async (t) => {
  if (process.env.GATEHOUSE_WRITE_SCHEMA === '1') {
    writeFileSync(FILE, expected);
    t.comment(`wrote ${FILE}`);
  }
  const onDisk = readFileSync(FILE, 'utf8');
  if (onDisk !== expected) {
    // Point at the first differing line so the failure is readable without a diff tool.
    const a = onDisk.split('\n');
    const b = expected.split('\n');
    const i = a.findIndex((line, n) => line !== b[n]);
    const line = i < 0 ? Math.min(a.length, b.length) : i;
    t.fail(HOW, { firstDifferenceAtLine: line + 1, found: a[line], wanted: b[line] });
  } else {
    t.pass('config.schema.json matches');
  }
});

t.test('the published schema covers core and every built-in plugin', async (t) => {
  const schema = JSON.parse(readFileSync(FILE, 'utf8'));
  t.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  t.same(schema.required, ['routes']);
  t.equal(schema.additionalProperties, false, 'unknown top-level keys are refused');
  const globalEntry = schema.properties.plugins.items;
  const routeEntry = schema.properties.routes.items.properties.plugins.items;
  t.same(routeEntry, globalEntry, 'global and route plugin lists accept the same plugins');
  t.ok(builtinPlugins.length > 0, 'there are built-in plugins');
  for (const p of builtinPlugins) {
    await t.test(p.name, async (t) => t.ok(globalEntry.properties[p.name], 'its options schema is embedded'));
  }
  t.match(globalEntry.additionalProperties, { type: ['object', 'null'] }, 'custom plugins (paths, packages) stay open');
});

t.test('editors get the same verdicts as gatehouse from config.schema.json', async (t) => {
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(FILE, 'utf8')));
  const good = {
    server: { http: { port: 8080 }, trustProxy: ['10.0.0.0/8'] },
    upstreams: { app: { targets: ['http://127.0.0.1:3000'] } },
    plugins: [{ './my-plugin.ts': { anything: true } }],
    routes: [
      { match: { pathExact: '/hc' }, plugins: [{ respond: { status: 204 } }] },
      { match: { path: '/' }, upstream: 'app' },
    ],
  };
  t.ok(validate(good), 'a valid config passes', { errors: validate.errors });

  const badPlugin = { routes: [{ plugins: [{ respond: { status: 999 } }] }] };
  t.notOk(validate(badPlugin), "a built-in plugin's options are checked");
  t.ok(
    validate.errors?.some((e) => e.instancePath === '/routes/0/plugins/0/respond/status' && e.keyword === 'maximum'),
    "at the option's path",
  );

  t.notOk(validate({ routes: [{ upstream: 'x' }], servr: {} }), 'an unknown top-level key fails');
  t.ok(
    validate.errors?.some(
      (e) => e.keyword === 'additionalProperties' && (e.params as { additionalProperty: string }).additionalProperty === 'servr',
    ),
  );
  t.notOk(validate({ routes: [{ plugins: [{ respond: {}, other: {} }] }] }), 'one plugin per list entry');

  // What the loader accepts before interpolation, editors must accept too (and nothing more).
  const routes = [{ plugins: [{ respond: {} }] }];
  const placeholders = [
    { desc: 'a port as ${PORT:-8080}', config: { server: { http: { port: '${PORT:-8080}' } }, routes }, valid: true },
    { desc: 'a boolean as ${FLAG}', config: { upstreams: { a: { targets: ['http://x'], insecure: '${INSECURE}' } }, routes }, valid: true },
    {
      desc: 'a plugin option number as a placeholder',
      config: { routes: [{ plugins: [{ respond: { status: '${STATUS:-204}' } }] }] },
      valid: true,
    },
    { desc: 'a port as text around a placeholder', config: { server: { http: { port: 'x${PORT}' } }, routes }, valid: false },
    { desc: 'a port as a plain word', config: { server: { http: { port: 'eighty' } }, routes }, valid: false },
    { desc: 'a number still checked against its range', config: { routes: [{ plugins: [{ respond: { status: 999 } }] }] }, valid: false },
  ];
  for (const c of placeholders) t.equal(validate(c.config), c.valid, c.desc, { errors: validate.errors });
});
