import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIfStale, pooled, runCli, type CliResult } from '../helpers/cli-run';

// `gatehouse validate` must refuse whatever `start` refuses (short of binding ports): each
// config below used to be called valid by validate and then refused by start, or is refused
// by a plugin's own validate(). Both commands run as users run them, and must agree: exit 1,
// the same code, the message, and for validate the JSON path with line:column.

const HTTP = 'server: { http: { port: 0, host: 127.0.0.1 } }\n';
const ROUTE = 'routes:\n  - plugins:\n';

/** A region with two IPv4 servers, one IPv6 one, and one name per server: the counts disagree. */
const MISMATCHED_REGIONS = `[eu]
public-ips = 10.0.0.0/8
smt-server-ip = 192.0.2.10,192.0.2.11
smt-server-ipv6 = 2001:db8::10
smt-server-name = a.example,b.example
smt-registry-name = r.example
smt-fingerprint = AA:BB
`;

const cases: { desc: string; yaml: string; files?: Record<string, string>; code: string; message: RegExp }[] = [
  {
    desc: 'region-routing: a regions file whose server lists disagree',
    files: { 'regions.cfg': MISMATCHED_REGIONS },
    yaml: `${HTTP}${ROUTE}      - region-routing: { regionsFile: ./regions.cfg }\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /:\d+:\d+ \/routes\/0\/plugins\/0\/region-routing\/regionsFile: .*eu/,
  },
  {
    desc: 'region-routing: a regions file that does not exist',
    yaml: `${HTTP}${ROUTE}      - region-routing: { regionsFile: ./missing.cfg }\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /region-routing\/regionsFile: .*missing\.cfg/,
  },
  {
    desc: 'region-routing: a malformed CIDR inline',
    yaml: `${HTTP}${ROUTE}      - region-routing: { regions: { east: { publicIps: [10.0.0.0/33], servers: [{ name: n, registryName: r, fingerprint: f, ip: 192.0.2.1 }] } } }\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /region-routing\/regions: .*10\.0\.0\.0\/33/,
  },
  {
    desc: 'region-routing: route mode without an upstream for a region',
    yaml: `${HTTP}${ROUTE}      - region-routing: { mode: route, regions: { east: { publicIps: [10.0.0.0/8], servers: [{ name: n, registryName: r, fingerprint: f, ip: 192.0.2.1 }] } } }\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /region-routing\/upstreams: .*region "east" has no entry in upstreams/,
  },
  {
    desc: 'hash-rewrite: stream mode without an archive',
    yaml: `${HTTP}${ROUTE}      - hash-rewrite: { metadata: http://127.0.0.1:9/files, mode: stream }\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /hash-rewrite: missing required key "archive"/,
  },
  {
    desc: 'hash-rewrite: an archive that is no declared upstream',
    yaml: `${HTTP}${ROUTE}      - hash-rewrite: { metadata: http://127.0.0.1:9/files, mode: stream, archive: archiv }\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /hash-rewrite\/archive: archive "archiv" is neither/,
  },
  {
    desc: 'hash-rewrite: negativeTtl longer than ttl',
    yaml: `${HTTP}${ROUTE}      - hash-rewrite: { metadata: http://127.0.0.1:9/files, mode: x-accel, cache: { ttl: 1000, negativeTtl: 5000 } }\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /hash-rewrite\/cache\/negativeTtl: .*must not exceed/,
  },
  {
    desc: 'hash-rewrite: a path with :hashtype twice',
    yaml: `${HTTP}${ROUTE}      - hash-rewrite: { metadata: http://127.0.0.1:9/files, mode: x-accel, path: "/files/:hashtype/:hashtype/:hashsum" }\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /hash-rewrite\/path: .*:hashtype and :hashsum exactly once/,
  },
  {
    desc: 'accel-redirect: a location on an undeclared upstream',
    yaml: `${HTTP}${ROUTE}      - accel-redirect: { locations: { /internal/: { upstream: archiv } } }\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /accel-redirect\/locations\/\/internal\/\/upstream: upstream "archiv" is not declared/,
  },
  {
    desc: 'two declarations with one id',
    yaml: `${HTTP}${ROUTE}      - respond: {}\n        id: health\n      - respond: {}\n        id: health\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /\/routes\/0\/plugins\/1\/id: id "health" is already the id of the plugin at \/routes\/0\/plugins\/0/,
  },
  {
    desc: 'an id that is not a name',
    yaml: `${HTTP}${ROUTE}      - respond: {}\n        id: "respond#1"\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /\/routes\/0\/plugins\/0\/id: /,
  },
  {
    desc: 'a declaration with a second key that is not id',
    yaml: `${HTTP}${ROUTE}      - respond: {}\n        hash-rewrite: {}\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /\/routes\/0\/plugins\/0: one plugin per declaration, found "respond" and "hash-rewrite"/,
  },
  {
    desc: 'a store URL of an unknown scheme',
    yaml: `${HTTP}store: postgres://db.example/gh\n${ROUTE}      - respond: {}\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /\/store: found "postgres:\/\/db\.example\/gh": expected sqlite:PATH .* or redis:\/\//,
  },
  {
    desc: 'a Redis store URL with a database number out of range, its password kept out of the message',
    yaml: `${HTTP}store: { url: "redis://:hunter2@127.0.0.1:6379/99" }\n${ROUTE}      - respond: {}\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /\/store\/url: found "redis:\/\/\[redacted\]@127\.0\.0\.1:6379\/99": the path is the database number/,
  },
  {
    desc: 'a sqlite store in memory (it would not survive a crash)',
    yaml: `${HTTP}store: "sqlite::memory:"\n${ROUTE}      - respond: {}\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /\/store: .*must be a file on disk/,
  },
  {
    desc: 'a Redis-only setting on a sqlite store',
    yaml: `${HTTP}store: { url: "sqlite:./x.db", prefix: "gh:" }\n${ROUTE}      - respond: {}\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /\/store: prefix, connectTimeoutMs and commandTimeoutMs are Redis settings/,
  },
  {
    desc: 'trustProxy with host bits set past the prefix',
    yaml: `server: { http: { port: 0, host: 127.0.0.1 }, trustProxy: [10.0.0.1/8] }\n${ROUTE}      - respond: {}\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /\/server\/trustProxy\/0: .*host bits are set/,
  },
  {
    desc: 'a .ts plugin with server.tuning.typescript off (and no loader running)',
    files: { 'stamp.ts': "export default { name: 'stamp', schema: { type: 'object' }, create: () => ({}) };\n" },
    yaml: `server: { http: { port: 0, host: 127.0.0.1 }, tuning: { typescript: false } }\n${ROUTE}      - ./stamp.ts: {}\n`,
    code: 'GH_ERR_CONFIG_INVALID',
    message: /plugin "\.\/stamp\.ts" is TypeScript .*server\.tuning\.typescript is off/,
  },
];

t.test('validate and start agree on broken configs', async (t) => {
  buildIfStale();
  const dir = t.testdir({});
  const files = cases.map((c, i) => {
    const file = join(dir, `case-${i}.yaml`);
    writeFileSync(file, c.yaml);
    for (const [name, text] of Object.entries(c.files ?? {})) writeFileSync(join(dir, name), text);
    return file;
  });
  const runs = await pooled(
    cases.flatMap((_, i) => (['validate', 'start'] as const).map((cmd) => () => runCli([cmd, '-c', files[i]], { cwd: dir, ms: 10000 }))),
  );
  cases.forEach((c, i) => {
    t.test(c.desc, async (t) => {
      const [validate, start] = [runs[2 * i], runs[2 * i + 1]] as CliResult[];
      for (const [cmd, r] of [
        ['validate', validate],
        ['start', start],
      ] as const) {
        t.equal(r.code, 1, `${cmd}: exit 1 (stderr: ${r.stderr.slice(0, 300)})`);
        t.match(r.stderr, new RegExp(`^${c.code}: `), `${cmd}: ${c.code}`);
        t.match(r.stderr, c.message, `${cmd}: the message`);
        t.notMatch(r.stderr, /^\s+at \S+ \(|^\s+at \//m, `${cmd}: no stack trace`);
      }
      t.equal(start.stderr, validate.stderr, 'start refuses with exactly what validate reports');
    });
  });
});
