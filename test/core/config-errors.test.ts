import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { generateCertificate } from '../../core/server/tls';
import { buildIfStale, pooled, runCli, type CliResult } from '../helpers/cli-run';

/**
 * Bad configs through the real CLI (`node bin/gatehouse.js validate|start -c FILE`), one
 * subtest per case: each must end with exit 1 and one coded message on stderr, never a stack
 * trace. What validate can know without binding (colliding ports, URLs, TLS files) it must
 * report as start does; what only a bind can tell (a port in use) is start's alone.
 */

/** What a command must print: a code and a fragment of the message, or `valid` (exit 0). */
type Expect = { code: string; message: string | RegExp } | 'valid';

interface Case {
  desc: string;
  /** File name in the fixture dir, and its text (or a function of the dynamic values). */
  file: string;
  text: string;
  validate: Expect;
  /** Default: the same as validate. */
  start?: Expect;
  /** Run the child as this uid (only used when the test runs as root, for permission cases). */
  uid?: number;
}

const RESPOND = 'routes:\n  - plugins: [respond: {}]\n';
const HTTP0 = 'server:\n  http: { port: 0, host: 127.0.0.1 }\n';
const TOKEN = '0123456789abcdef0123';
const https = (tls: string) => `server:\n  http: { port: 0, host: 127.0.0.1 }\n  https: { port: 0, host: 127.0.0.1, ${tls} }\n${RESPOND}`;
const invalid = (message: string | RegExp): Expect => ({ code: 'GH_ERR_CONFIG_INVALID', message });

function cases(busyPort: number, root: boolean): Case[] {
  return [
    {
      desc: 'trustProxy as a map',
      file: 'trust-map.yaml',
      text: `server: { trustProxy: {} }\n${RESPOND}`,
      validate: invalid('/server/trustProxy: found {}, expected array'),
    },
    {
      desc: 'trustProxy as one string',
      file: 'trust-string.yaml',
      text: `server: { trustProxy: 10.0.0.0/8 }\n${RESPOND}`,
      validate: invalid('/server/trustProxy: found "10.0.0.0/8", expected array'),
    },
    {
      desc: 'YAML self-alias a: &a [*a]',
      file: 'self-alias.yaml',
      text: `a: &a [*a]\n${RESPOND}`,
      validate: invalid(/self-alias\.yaml:1:8 \/a\/0: refers back to \/a \(a YAML alias inside its own anchor/),
    },
    {
      desc: 'YAML map alias inside itself',
      file: 'self-map.yaml',
      text: `x: &x { y: *x }\n${RESPOND}`,
      validate: invalid('/x/y: refers back to /x'),
    },
    {
      desc: 'YAML alias bomb (billion laughs)',
      file: 'bomb.yaml',
      text: `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n${RESPOND}`,
      validate: { code: 'GH_ERR_CONFIG_PARSE', message: 'YAML aliases expand past 100 copies' },
    },
    {
      desc: 'flow collections nested 5000 deep',
      file: 'deep-flow.yaml',
      text: `x: ${'['.repeat(5000)}${']'.repeat(5000)}\n${RESPOND}`,
      validate: { code: 'GH_ERR_CONFIG_PARSE', message: 'nested too deeply to parse' },
    },
    {
      desc: 'lists nested 100 deep',
      file: 'deep-block.json',
      text: `{"routes": ${'['.repeat(100)}${']'.repeat(100)}}`,
      validate: invalid('nested deeper than 64 levels'),
    },
    {
      desc: 'a .js config exporting a function',
      file: 'fn.js',
      text: 'module.exports = function () { return { routes: [] }; };\n',
      validate: invalid('/: found a function, expected the config object'),
    },
    {
      desc: 'a .js config with a function inside',
      file: 'fn-inside.js',
      text: 'module.exports = { routes: [{ plugins: [{ respond: { body: () => "x" } }] }] };\n',
      validate: invalid('/routes/0/plugins/0/respond/body: found a function, expected JSON data'),
    },
    {
      desc: 'a .js config that is cyclic',
      file: 'cyclic.js',
      text: 'const c = { routes: [{ plugins: [{ respond: {} }] }] }; c.routes[0].self = c; module.exports = c;\n',
      validate: invalid('/routes/0/self: refers back to /'),
    },
    {
      desc: 'a .js config that throws',
      file: 'throws.js',
      text: 'throw new Error("no config today");\n',
      validate: { code: 'GH_ERR_CONFIG_PARSE', message: 'no config today' },
    },
    {
      desc: '-c names a directory',
      file: 'a-dir',
      text: '',
      validate: { code: 'GH_ERR_CONFIG_NOT_FOUND', message: 'is a directory; pass -c with the config file itself' },
    },
    {
      desc: 'target URL with port 99999',
      file: 'url-port.yaml',
      text: `${HTTP0}upstreams: { app: { targets: ["http://127.0.0.1:99999"] } }\nroutes: [ { upstream: app } ]\n`,
      validate: invalid('url-port.yaml:3:31 /upstreams/app/targets/0: found "http://127.0.0.1:99999": expected an http(s) or ws(s) URL'),
    },
    {
      desc: 'target URL with port 0',
      file: 'url-zero.yaml',
      text: `${HTTP0}upstreams: { app: { targets: ["http://127.0.0.1:0"] } }\nroutes: [ { upstream: app } ]\n`,
      validate: invalid('/upstreams/app/targets/0: found "http://127.0.0.1:0": port 0 cannot be connected to'),
    },
    {
      desc: 'target without a scheme',
      file: 'url-bare.yaml',
      text: `${HTTP0}upstreams: { app: { targets: ["127.0.0.1:3000"] } }\nroutes: [ { upstream: app } ]\n`,
      validate: invalid('/upstreams/app/targets/0: found "127.0.0.1:3000": expected an http(s) or ws(s) URL'),
    },
    {
      desc: 'port .inf',
      file: 'port-inf.yaml',
      text: `server: { http: { port: .inf } }\n${RESPOND}`,
      validate: invalid('/server/http/port: found Infinity, expected integer'),
    },
    {
      desc: 'gcEveryMiB .nan',
      file: 'gc-nan.yaml',
      text: `server: { tuning: { gcEveryMiB: .nan } }\n${RESPOND}`,
      validate: invalid('/server/tuning/gcEveryMiB: found NaN, expected number'),
    },
    {
      desc: 'TLS cert and key missing',
      file: 'tls-missing.yaml',
      text: https('cert: nope.pem, key: nope-key.pem'),
      validate: invalid(
        /\/server\/https\/cert: \S+nope\.pem does not exist\n {2}\S+ \/server\/https\/key: \S+nope-key\.pem does not exist/,
      ),
    },
    {
      desc: 'TLS cert not PEM',
      file: 'tls-not-pem.yaml',
      text: https('cert: garbage.pem, key: key-a.pem'),
      validate: invalid(/\/server\/https\/cert: \S+garbage\.pem is not a usable PEM certificate \(PEM routines: no start line\)/),
    },
    {
      desc: 'TLS key not PEM',
      file: 'tls-key-not-pem.yaml',
      text: https('cert: cert-a.pem, key: garbage.pem'),
      validate: invalid(/\/server\/https\/key: \S+garbage\.pem is not a usable PEM private key/),
    },
    {
      desc: 'TLS key of another certificate',
      file: 'tls-mismatch.yaml',
      text: https('cert: cert-a.pem, key: key-b.pem'),
      validate: invalid(/\/server\/https\/key: \S+key-b\.pem does not belong to the certificate \S+cert-a\.pem/),
    },
    {
      desc: 'TLS cert is a directory',
      file: 'tls-dir.yaml',
      text: https('cert: a-dir, key: key-a.pem'),
      validate: invalid(/\/server\/https\/cert: \S+a-dir is a directory, not a file/),
    },
    // Root reads everything: the permission case runs its child as nobody (65534) then.
    {
      desc: 'TLS key not readable (permission denied)',
      file: 'tls-perm.yaml',
      text: https('cert: cert-a.pem, key: key-locked.pem'),
      validate: invalid(/\/server\/https\/key: \S+key-locked\.pem cannot be read \(permission denied\)/),
      uid: root ? 65534 : undefined,
    },
    {
      desc: 'selfSigned dir below a file',
      file: 'tls-selfsigned-file.yaml',
      text: https('selfSigned: { dir: ./garbage.pem/tls }'),
      validate: invalid(
        /\/server\/https\/selfSigned: cannot keep a self-signed certificate in \S+: \S+garbage\.pem is a file, not a directory/,
      ),
    },
    {
      desc: 'selfSigned for a million days',
      file: 'tls-days.yaml',
      text: https('selfSigned: { dir: ./tls, days: 1000000 }'),
      validate: invalid('/server/https/selfSigned/days: found 1000000, expected it to be <= 36500'),
    },
    {
      desc: 'admin port equal to the http port',
      file: 'admin-eq-http.yaml',
      text: `server: { http: { port: 18931 } }\nadmin: { port: 18931, token: ${TOKEN} }\n${RESPOND}`,
      validate: invalid(
        'admin-eq-http.yaml:2:16 /admin/port: the admin listener (127.0.0.1:18931) would use the port of the http listener (0.0.0.0:18931); give each its own port',
      ),
    },
    {
      desc: 'admin port equal to the default http port',
      file: 'admin-eq-default.yaml',
      text: `admin: { port: 8080, token: ${TOKEN} }\n${RESPOND}`,
      validate: invalid('/admin/port: the admin listener (127.0.0.1:8080) would use the port of the http listener (0.0.0.0:8080)'),
    },
    {
      desc: 'https port equal to the http port',
      file: 'https-eq-http.yaml',
      text: `server:\n  http: { port: 18932 }\n  https: { port: 18932, selfSigned: { dir: ./tls } }\n${RESPOND}`,
      validate: invalid('/server/https/port: the https listener (0.0.0.0:18932) would use the port of the http listener (0.0.0.0:18932)'),
    },
    {
      desc: 'http port already in use (only a bind can tell)',
      file: 'busy.yaml',
      text: `server: { http: { port: ${busyPort}, host: 127.0.0.1 } }\nadmin: { port: 0, token: ${TOKEN} }\n${RESPOND}`,
      validate: 'valid',
      start: { code: 'GH_ERR_LISTEN', message: `cannot open the http listener on 127.0.0.1:${busyPort}: the address is already in use` },
    },
    {
      desc: 'admin port already in use',
      file: 'busy-admin.yaml',
      text: `${HTTP0}admin: { port: ${busyPort}, token: ${TOKEN} }\n${RESPOND}`,
      validate: 'valid',
      start: {
        code: 'GH_ERR_LISTEN',
        message: `cannot open the admin listener on 127.0.0.1:${busyPort}: the address is already in use (another process`,
      },
    },
    {
      desc: 'bind address not on this machine',
      file: 'not-mine.yaml',
      text: `server: { http: { port: 0, host: 192.0.2.1 } }\n${RESPOND}`,
      validate: 'valid',
      start: {
        code: 'GH_ERR_LISTEN',
        message: 'cannot open the http listener on 192.0.2.1:0: the host is not an address of this machine (EADDRNOTAVAIL)',
      },
    },
    {
      desc: 'duplicate route names',
      file: 'dup-names.yaml',
      text: `${HTTP0}routes:\n  - { name: api, plugins: [respond: {}] }\n  - { name: api, plugins: [respond: {}] }\n`,
      validate: invalid('dup-names.yaml:5:13 /routes/1/name: route name "api" is already used by /routes/0/name'),
    },
    {
      desc: 'respond header value with CRLF',
      file: 'respond-crlf.yaml',
      text: `${HTTP0}routes:\n  - plugins: [respond: { headers: { x-a: "1\\r\\nset-cookie: evil=1" } }]\n`,
      validate: invalid('/routes/0/plugins/0/respond/headers/x-a: found "1\\r\\nset-cookie: evil=1": a header value may hold'),
    },
  ];
}

/** Exit 1, one message (a coded first line, indented detail lines), no stack trace. */
function assertFailure(t: Test, r: CliResult, want: { code: string; message: string | RegExp }): void {
  t.equal(r.signal, null, `ended by itself (${r.ms} ms)`);
  t.equal(r.code, 1, 'exit 1');
  const lines = r.stderr.trimEnd().split('\n');
  t.match(lines[0], new RegExp(`^${want.code}: `), `first line starts with ${want.code}`);
  t.same(
    lines.slice(1).filter((l) => !l.startsWith('  ')),
    [],
    'one message: every further line is an indented detail',
  );
  t.notMatch(r.stderr, /^\s+at \S+ \(|^\s+at \//m, 'no stack trace');
  t.match(r.stderr, want.message);
}

t.test('bad config through the CLI: one coded message and exit 1', async (t) => {
  buildIfStale();
  const dir = t.testdir({ 'garbage.pem': 'not a certificate\n', 'a-dir': {} });
  const [a, b] = await Promise.all([generateCertificate({ host: 'a.test' }), generateCertificate({ host: 'b.test' })]);
  writeFileSync(join(dir, 'cert-a.pem'), a.cert);
  writeFileSync(join(dir, 'key-a.pem'), a.key);
  writeFileSync(join(dir, 'key-b.pem'), b.key);
  writeFileSync(join(dir, 'key-locked.pem'), a.key);
  chmodSync(join(dir, 'key-locked.pem'), 0o000);
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => busy.close(() => r())));
  const root = process.getuid?.() === 0;
  const list = cases((busy.address() as net.AddressInfo).port, root);
  for (const c of list) if (c.text) writeFileSync(join(dir, c.file), c.text);
  mkdirSync(join(dir, 'tls'), { recursive: true });
  const results = await pooled(
    list.flatMap((c) =>
      (['validate', 'start'] as const).map((cmd) => () => runCli([cmd, '-c', join(dir, c.file)], { cwd: dir, uid: c.uid })),
    ),
  );
  list.forEach((c, i) => {
    t.test(c.desc, async (t) => {
      for (const [j, cmd] of (['validate', 'start'] as const).entries()) {
        const want = cmd === 'start' ? (c.start ?? c.validate) : c.validate;
        const r = results[i * 2 + j];
        t.test(cmd, async (t) => {
          if (want === 'valid') {
            t.equal(r.code, 0, `exit 0; stderr: ${r.stderr}`);
            t.match(r.stdout, ': valid (');
          } else assertFailure(t, r, want);
        });
      }
    });
  });
});
