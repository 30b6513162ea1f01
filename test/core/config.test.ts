import t from 'tap';
import { loadConfig, GatehouseError, type LoadedConfig } from '../../app';

/**
 * Config loading, table-driven: each case writes its files to a temp dir, loads them
 * (by name, or by discovery when `load` is null) and expects either the error
 * fragments (all of them, in one error) or a check on the loaded config.
 */
interface Case {
  what: string;
  files: Record<string, string>;
  /** File to pass as `-c`; null: let cosmiconfig discover it in the dir. */
  load?: string | null;
  env?: Record<string, string>;
  code?: string;
  errors?: (string | RegExp)[];
  /** Exact number of error lines expected in `details`. */
  count?: number;
  check?(t: tap.Test, loaded: LoadedConfig): void;
}

const ROUTES = `routes:\n  - match: { path: / }\n    upstream: backend\n`;
const UPSTREAMS = `upstreams:\n  backend: { targets: ["http://127.0.0.1:3001"] }\n`;
const VALID = UPSTREAMS + ROUTES;

/** A custom plugin with its own strict schema, in plain JavaScript. */
const SHOUT_JS = `module.exports = {
  name: 'shout',
  schema: { type: 'object', additionalProperties: false, required: ['word'],
    properties: { word: { type: 'string', minLength: 1 }, times: { type: 'integer', minimum: 1, default: 2 } } },
  create: (o) => ({ handle: (ctx) => ctx.send(200, o.word.repeat(o.times)) }),
};\n`;

const cases: Case[] = [
  {
    what: 'unknown top-level key: position and a did-you-mean',
    files: { 'gatehouse.yaml': `servr:\n  http: { port: 80 }\n${VALID}` },
    errors: ['gatehouse.yaml:1:1 /: unknown key "servr"', 'did you mean "server"?', 'Expected one of: server, admin'],
    count: 1,
  },
  {
    what: 'unknown nested key points at the key itself',
    files: { 'gatehouse.yaml': `server:\n  http:\n    prot: 8080\n${VALID}` },
    errors: ['gatehouse.yaml:3:5 /server/http: unknown key "prot"; did you mean "port"?'],
  },
  {
    what: 'wrong type: found and expected',
    files: { 'gatehouse.yaml': `server:\n  http:\n    port: eighty\n${VALID}` },
    errors: ['gatehouse.yaml:3:11 /server/http/port: found "eighty", expected integer'],
    count: 1,
  },
  {
    what: 'enum: lists the allowed values',
    files: { 'gatehouse.yaml': `log: { level: loud }\n${VALID}` },
    errors: ['/log/level: found "loud", expected one of "fatal", "error", "warn", "info"'],
  },
  {
    what: 'unknown plugin name: closest built-in suggested',
    files: { 'gatehouse.yaml': `routes:\n  - match: { path: / }\n    plugins:\n      - respnd: { status: 204 }\n` },
    errors: ['gatehouse.yaml:4:9 /routes/0/plugins/0: unknown plugin "respnd"', 'did you mean "respond"?', 'Built-in plugins: respond'],
  },
  {
    what: 'invalid plugin options: plugin, JSON path, found and expected',
    files: { 'gatehouse.yaml': `routes:\n  - match: { path: / }\n    plugins:\n      - respond:\n          status: 999\n` },
    errors: ['gatehouse.yaml:5:19 /routes/0/plugins/0/respond/status: found 999, expected it to be <= 599 (plugin respond)'],
    count: 1,
  },
  {
    what: 'invalid options of a global plugin and an unknown plugin option key',
    files: { 'gatehouse.yaml': `plugins:\n  - respond: { stauts: 201 }\n${VALID}` },
    errors: ['/plugins/0/respond: unknown key "stauts"; did you mean "status"?', '(plugin respond)'],
  },
  {
    what: 'custom plugin by relative path: its own schema is enforced, never skipped',
    files: { 'plugins/shout.js': SHOUT_JS, 'gatehouse.yaml': `routes:\n  - plugins:\n      - ./plugins/shout.js: { times: 0 }\n` },
    errors: [
      'missing required key "word" (plugin shout)',
      '/routes/0/plugins/0/./plugins/shout.js/times: found 0, expected it to be >= 1 (plugin shout)',
    ],
    count: 2,
  },
  {
    what: 'custom plugin file that does not exist',
    files: { 'gatehouse.yaml': `routes:\n  - plugins:\n      - ./nope.ts: {}\n` },
    errors: [/\/routes\/0\/plugins\/0: plugin file \S+nope\.ts does not exist/],
  },
  {
    what: 'several errors reported at once, each with its position',
    files: {
      'gatehouse.yaml': `server:\n  http: { port: -1 }\nadmin: { token: short }\nupstreams:\n  b: { targets: [ftp://x] }\nroutes:\n  - match: { path: nope }\n    upstream: b\n`,
    },
    errors: [
      '4 error(s)',
      ':2:17 /server/http/port: found -1, expected it to be >= 0',
      ':3:17 /admin/token: found "short"',
      ':5:18 /upstreams/b/targets/0: found "ftp://x"',
      ':7:20 /routes/0/match/path: found "nope", expected it to match pattern "^/"',
    ],
    count: 4,
  },
  {
    what: 'unknown upstream reference lists the declared ones',
    files: { 'gatehouse.yaml': `${UPSTREAMS}routes:\n  - upstream: bakend\n` },
    errors: ['gatehouse.yaml:4:15 /routes/0/upstream: unknown upstream "bakend"; declared upstreams: backend'],
  },
  {
    what: 'a route with neither upstream nor plugin',
    files: { 'gatehouse.yaml': `routes:\n  - match: { path: /x }\n` },
    errors: ['/routes/0: a route needs an upstream or at least one plugin to answer'],
  },
  {
    what: 'two of path/pathExact/pathRegex',
    files: { 'gatehouse.yaml': `${UPSTREAMS}routes:\n  - match: { path: /a, pathRegex: "^/b" }\n    upstream: backend\n` },
    errors: ['/routes/0/match: use only one of path, pathExact, pathRegex (found path, pathRegex)'],
  },
  {
    what: 'bad trustProxy CIDR',
    files: { 'gatehouse.yaml': `server:\n  trustProxy: [10.0.0.0/8, 10.0.0.0/33, not-an-ip]\n${VALID}` },
    errors: ['/server/trustProxy/1: found "10.0.0.0/33", expected an IP address or CIDR', '/server/trustProxy/2: found "not-an-ip"'],
    count: 2,
  },
  {
    what: 'https without cert/key or selfSigned',
    files: { 'gatehouse.yaml': `server:\n  https: { port: 8443 }\n${VALID}` },
    errors: ['gatehouse.yaml:2:10 /server/https: https needs cert and key files, or selfSigned: {}'],
  },
  {
    what: 'unset ${VAR} without a default is an error with file, position and path',
    files: {
      'gatehouse.yaml': `upstreams:\n  backend: { targets: ["http://\${BACKEND_HOST}:\${BACKEND_PORT:-80}"] }\n${ROUTES}admin:\n  token: \${ADMIN_TOKEN}\n`,
    },
    code: 'GH_ERR_CONFIG_ENV',
    errors: [
      '2 unset environment variable(s)',
      '/upstreams/backend/targets/0: ${BACKEND_HOST} is not set and has no default',
      'gatehouse.yaml:7:10 /admin/token: ${ADMIN_TOKEN} is not set',
      'write ${ADMIN_TOKEN:-value}',
    ],
  },
  {
    what: 'unset ${VAR} is reported together with the other errors, without a second error for its empty value',
    files: {
      'gatehouse.yaml': `server:\n  htp: {}\n  http:\n    port: \${PORT}\n${UPSTREAMS}routes:\n  - match: { path: / }\n    plugins:\n      - respond: { status: "\${STATUS}", bdy: x }\n`,
    },
    errors: [
      '4 error(s)',
      'gatehouse.yaml:4:11 /server/http/port: ${PORT} is not set',
      '/routes/0/plugins/0/respond/status: ${STATUS} is not set',
      '/server: unknown key "htp"',
      'unknown key "bdy"',
    ],
    count: 4,
  },
  {
    what: '${VAR:-default} and whole-placeholder coercion to numbers and booleans',
    files: {
      'gatehouse.yaml': `server:\n  http:\n    port: \${PORT:-8181}\n    host: \${HOST:-127.0.0.1}\n    redirectToHttps: \${REDIRECT:-false}\nupstreams:\n  backend: { targets: ["http://\${BACKEND:-localhost}:\${BACKEND_PORT:-3001}/v\${V}"] }\n${ROUTES.replace('/ }', '"/${PREFIX:-}" }')}log: { level: "\${LEVEL:-warn}" }\n`,
    },
    env: { V: '2', LEVEL: '', BACKEND_PORT: '4000' },
    check(t, { config }) {
      t.equal(config.server.http?.port, 8181, 'a whole numeric placeholder becomes a number');
      t.equal(config.server.http?.host, '127.0.0.1');
      t.equal(config.server.http?.redirectToHttps, false, 'and a boolean becomes a boolean');
      t.same(config.upstreams.backend.targets, ['http://localhost:4000/v2'], 'mixed text stays a string; set variables win');
      t.equal(config.routes[0].match.path, '/', 'an empty default is allowed');
      t.equal(config.log.level, 'warn', 'an empty value takes the default, like the shell');
    },
  },
  {
    what: 'a set variable overrides the default and is coerced too',
    files: { 'gatehouse.yaml': `server:\n  http: { port: "\${PORT:-8080}" }\n${VALID}` },
    env: { PORT: '9090' },
    check: (t, { config }) => t.equal(config.server.http?.port, 9090),
  },
  {
    what: 'YAML syntax error with line:column',
    files: { 'gatehouse.yaml': `${UPSTREAMS}routes:\n  - match: { path: /\n    upstream: backend\n` },
    code: 'GH_ERR_CONFIG_PARSE',
    errors: [/gatehouse\.yaml:5:\d+: /],
  },
  {
    what: 'duplicate keys are a parse error, not a silent override',
    files: { 'gatehouse.yaml': `${VALID}routes: []\n` },
    code: 'GH_ERR_CONFIG_PARSE',
    errors: [/gatehouse\.yaml:6:1: Map keys must be unique/],
  },
  {
    what: 'JSON config file, loaded by name',
    files: {
      'gw.json': JSON.stringify(
        { upstreams: { backend: { targets: ['http://127.0.0.1:3001'] } }, routes: [{ match: { pathExact: '/x' }, upstream: 'backend' }] },
        null,
        2,
      ),
    },
    load: 'gw.json',
    check(t, loaded) {
      t.match(loaded.file, /gw\.json$/);
      t.equal(loaded.config.routes[0].match.pathExact, '/x');
    },
  },
  {
    what: 'JSON config errors carry line:column too',
    files: { 'gw.json': '{\n  "routes": [\n    { "upstream": "nowhere" }\n  ]\n}\n' },
    load: 'gw.json',
    errors: ['gw.json:3:19 /routes/0/upstream: unknown upstream "nowhere"; no upstreams are declared'],
  },
  {
    what: 'discovery: gatehouse.yaml in the cwd without -c',
    files: { 'gatehouse.yaml': VALID, 'unrelated.yaml': 'routes: 5\n' },
    load: null,
    check: (t, loaded) => t.match(loaded.file, /[\\/]gatehouse\.yaml$/),
  },
  {
    what: 'discovery: .gatehouserc.json',
    files: {
      '.gatehouserc.json': JSON.stringify({
        upstreams: { backend: { targets: ['http://127.0.0.1:3001'] } },
        routes: [{ upstream: 'backend' }],
      }),
    },
    load: null,
    check(t, loaded) {
      t.match(loaded.file, /[\\/]\.gatehouserc\.json$/);
      t.equal(loaded.config.routes.length, 1);
    },
  },
  {
    what: 'discovery: nothing to find',
    files: { 'README.md': 'no config here\n' },
    load: null,
    code: 'GH_ERR_CONFIG_NOT_FOUND',
    errors: ['no config found in', 'pass -c FILE'],
  },
  {
    what: 'a missing -c file',
    files: {},
    load: 'missing.yaml',
    code: 'GH_ERR_CONFIG_NOT_FOUND',
    errors: [/missing\.yaml does not exist/],
  },
  {
    what: 'defaults are applied to core and plugin options',
    files: { 'gatehouse.yaml': `${UPSTREAMS}routes:\n  - match: { path: /hc }\n    plugins: [respond: {}]\n  - upstream: backend\n` },
    check(t, { config, routePlugins }) {
      t.same(config.server.http, { port: 8080, host: '0.0.0.0', redirectToHttps: false }, 'http listener on 8080 when none is given');
      t.same(config.server.timeouts, { headers: 20000, request: 300000, keepAlive: 5000, send: 60000 });
      t.same(config.server.trustProxy, [], 'no proxy is trusted by default');
      t.equal(config.store, 'sqlite:./data/gatehouse.db');
      t.same(config.log, { level: 'info', accessLog: true });
      t.match(config.upstreams.backend, { timeout: 60000, maxSockets: 256, changeOrigin: false, insecure: false });
      t.match(config.routes[1], { websocket: false, plugins: [], match: {} });
      t.same(routePlugins[0][0].options, { status: 200, body: '', headers: {} }, 'plugin schema defaults too');
      t.equal(routePlugins[0][0].at, '/routes/0/plugins/0');
    },
  },
  {
    what: 'everything is frozen after validation',
    files: {
      'plugins/shout.js': SHOUT_JS,
      'gatehouse.yaml': `${UPSTREAMS}plugins:\n  - ./plugins/shout.js: { word: hi }\nroutes:\n  - match: { path: / }\n    upstream: backend\n`,
    },
    check(t, loaded) {
      t.ok(Object.isFrozen(loaded), 'the loaded config');
      t.ok(Object.isFrozen(loaded.config), 'the config');
      t.ok(Object.isFrozen(loaded.config.routes[0].match), 'nested objects');
      t.ok(Object.isFrozen(loaded.config.upstreams.backend.targets), 'arrays');
      const opts = loaded.globalPlugins[0].options as { word: string; times: number };
      t.same(opts, { word: 'hi', times: 2 });
      t.ok(Object.isFrozen(opts), 'plugin options');
      t.throws(
        () => {
          (opts as { word: string }).word = 'changed';
        },
        TypeError,
        'writing to them throws',
      );
      t.equal(loaded.globalPlugins[0].definition.name, 'shout');
    },
  },
];

/** t.testdir wants nested objects for sub-directories. */
function tree(files: Record<string, string>): Parameters<typeof t.testdir>[0] {
  const root: Record<string, any> = {};
  for (const [path, text] of Object.entries(files)) {
    const parts = path.split('/');
    let dir = root;
    for (const p of parts.slice(0, -1)) dir = dir[p] ??= {};
    dir[parts[parts.length - 1]] = text;
  }
  return root;
}

for (const c of cases) {
  t.test(c.what, async (t) => {
    const dir = t.testdir(tree(c.files));
    const file = c.load === null ? undefined : (c.load ?? 'gatehouse.yaml');
    const run = loadConfig(file, { cwd: dir, env: c.env ?? {} });
    if (c.check) {
      c.check(t, await run);
      return;
    }
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof GatehouseError, 'rejects with a GatehouseError');
    const e = err as GatehouseError;
    t.equal(e.code, c.code ?? 'GH_ERR_CONFIG_INVALID');
    // A string fragment must appear as is (tap's match on strings is a substring test).
    for (const f of c.errors ?? []) t.match(e.message, f);
    if (c.count !== undefined) t.equal((e.details as string[]).length, c.count, `exactly ${c.count} error(s)`, { details: e.details });
  });
}

t.test('the same file loads the same way twice (no cache, no leftover state)', async (t) => {
  const dir = t.testdir({ 'gatehouse.yaml': `${UPSTREAMS}routes:\n  - upstream: \${UP:-backend}\n` });
  const a = await loadConfig('gatehouse.yaml', { cwd: dir, env: {} });
  const b = loadConfig('gatehouse.yaml', { cwd: dir, env: { UP: 'other' } });
  t.equal(a.config.routes[0].upstream, 'backend');
  await t.rejects(b, { code: 'GH_ERR_CONFIG_INVALID', message: /unknown upstream "other"/ });
});
