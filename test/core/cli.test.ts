import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { buildIfStale, childEnv, ROOT, runCli, startCli } from '../helpers/cli-run';
import { request, startBackend } from '../helpers/servers';

t.before(buildIfStale);

const VALID = 'upstreams:\n  app: { targets: ["http://127.0.0.1:3000"] }\nroutes:\n  - match: { path: / }\n    upstream: app\n';

t.test('validate', async (t) => {
  const dir = t.testdir({
    'ok.yaml': VALID,
    'bad.yaml': 'server:\n  htp: {}\nroutes:\n  - upstream: nowhere\n    plugins:\n      - respond: { status: 999 }\n',
    'env.yaml': 'routes:\n  - plugins: [respond: { body: "${GREETING}" }]\n',
    found: { 'gatehouse.yaml': VALID },
  });
  const [ok, discovered, bad, env, set, missing] = await Promise.all([
    runCli(['validate', '-c', join(dir, 'ok.yaml')]),
    runCli(['validate'], { cwd: join(dir, 'found') }),
    runCli(['validate', '--config', join(dir, 'bad.yaml')]),
    runCli(['validate', '-c', join(dir, 'env.yaml')]),
    runCli(['validate', '-c', join(dir, 'env.yaml')], { env: childEnv({ GREETING: 'hi' }) }),
    runCli(['validate', '-c', join(dir, 'nope.yaml')]),
  ]);
  t.equal(ok.code, 0, 'exit 0 on a valid file');
  t.match(ok.stdout, /ok\.yaml: valid \(1 routes, 1 upstreams\)/);

  t.equal(discovered.code, 0, 'without -c the config is discovered in the cwd');
  t.match(discovered.stdout, /found[\\/]gatehouse\.yaml: valid/);

  t.equal(bad.code, 1, 'exit 1 on an invalid file');
  t.match(bad.stderr, 'GH_ERR_CONFIG_INVALID');
  t.match(bad.stderr, '3 error(s)');
  t.match(bad.stderr, /bad\.yaml:2:3 \/server: unknown key "htp"; did you mean "http"\?/);
  t.match(bad.stderr, /bad\.yaml:4:15 \/routes\/0\/upstream: unknown upstream "nowhere"/);
  t.match(bad.stderr, /bad\.yaml:6:28 \/routes\/0\/plugins\/0\/respond\/status: found 999, expected it to be <= 599 \(plugin respond\)/);

  t.equal(env.code, 1, 'exit 1 on an unset variable');
  t.match(env.stderr, /GH_ERR_CONFIG_ENV.*\n.*env\.yaml:2:\d+ \/routes\/0\/plugins\/0\/respond\/body: \$\{GREETING\} is not set/);
  t.equal(set.code, 0, 'valid once the variable is set');

  t.equal(missing.code, 1, 'exit 1 on a missing file');
  t.match(missing.stderr, /GH_ERR_CONFIG_NOT_FOUND: .*nope\.yaml does not exist/);
});

t.test('schema prints the JSON schema, byte for byte config.schema.json', async (t) => {
  const res = await runCli(['schema']);
  t.equal(res.code, 0);
  const schema = JSON.parse(res.stdout);
  t.equal(schema.title, 'Gatehouse configuration');
  t.ok(schema.properties.routes.items.properties.plugins.items.properties.respond, 'built-in plugin schemas are included');
  t.equal(
    res.stdout,
    readFileSync(join(ROOT, 'config.schema.json'), 'utf8'),
    '`gatehouse schema > config.schema.json` reproduces the file',
  );
});

t.test('cert writes an RSA-2048/SHA-256 self-signed pair', async (t) => {
  const out = join(t.testdir({}), 'tls');
  const res = await runCli([
    'cert',
    '--host',
    'gw.example.test',
    '--san-ip',
    '10.1.2.3',
    '--san-ip',
    '::1',
    '--san-dns',
    'alt.example.test',
    '--days',
    '30',
    '--out',
    out,
  ]);
  t.equal(res.code, 0, res.stderr);
  const pem = readFileSync(join(out, 'cert.pem'), 'utf8');
  const keyPem = readFileSync(join(out, 'key.pem'), 'utf8');
  const cert = new X509Certificate(pem);
  t.equal(cert.publicKey.asymmetricKeyType, 'rsa');
  t.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  t.match(cert.subject, 'CN=gw.example.test');
  t.equal(cert.issuer, cert.subject, 'self-signed: issuer is the subject');
  t.ok(cert.verify(cert.publicKey), 'signed by its own key');
  t.ok(cert.checkPrivateKey(createPrivateKey(keyPem)), 'key.pem belongs to cert.pem');
  const san = (cert.subjectAltName ?? '').split(', ');
  for (const want of ['DNS:gw.example.test', 'DNS:alt.example.test', 'IP Address:10.1.2.3', 'IP Address:0:0:0:0:0:0:0:1'])
    t.ok(san.includes(want), `SAN has ${want}`, { san });
  const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
  t.ok(Math.abs(days - 30) <= 1, `valid for ~30 days (${days})`);
  t.ok(Date.parse(cert.validFrom) <= Date.now() + 60_000, 'already valid');
  t.match(res.stdout, cert.fingerprint256, 'prints the SHA-256 fingerprint');
  if (process.platform !== 'win32') t.equal(statSync(join(out, 'key.pem')).mode & 0o777, 0o600, 'key readable by the owner only');
  const text = spawnSync('openssl', ['x509', '-noout', '-text', '-in', join(out, 'cert.pem')], { encoding: 'utf8' });
  if (text.status === 0) t.match(text.stdout, /Signature Algorithm: sha256WithRSAEncryption/, 'signed with SHA-256');
  else t.comment('openssl not available: signature algorithm not checked');

  const [noHost, badDays] = await Promise.all([
    runCli(['cert', '--out', out]),
    runCli(['cert', '--host', 'x', '--days', 'ten', '--out', out]),
  ]);
  t.equal(noHost.code, 1);
  t.match(noHost.stderr, '--host is required');
  t.equal(badDays.code, 1);
  t.match(badDays.stderr, '--days must be a whole number from 1 to 36500');
});

t.test('--help, unknown commands and options', async (t) => {
  const commands = ['start', 'validate', 'schema', 'cert'];
  const [main, none, unknown, badOpt, ...helps] = await Promise.all([
    runCli(['--help']),
    runCli([]),
    runCli(['frobnicate']),
    runCli(['validate', '--nope']),
    ...commands.map((cmd) => runCli([cmd, '--help'])),
  ]);
  for (const [i, cmd] of commands.entries())
    await t.test(`${cmd} --help`, async (t) => {
      t.equal(helps[i].code, 0, 'exits 0');
      t.match(helps[i].stdout, `Usage: gatehouse ${cmd}`, 'prints its usage');
    });
  t.equal(main.code, 0);
  for (const cmd of commands) t.match(main.stdout, new RegExp(`^  ${cmd} `, 'm'), `main help lists ${cmd}`);
  t.equal(none.code, 1, 'no command: usage and exit 1');
  t.match(none.stdout, 'Usage: gatehouse <command>');
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, 'unknown command "frobnicate"');
  t.equal(badOpt.code, 1);
  t.match(badOpt.stderr, /Unknown option '--nope'[\s\S]*Usage: gatehouse validate/);
});

t.test('start: the compiled CLI loads the TypeScript example plugin by path and serves', async (t) => {
  const be = await startBackend(t);
  const config = join(ROOT, 'examples', 'custom-plugin', 'gatehouse.yaml');
  const { child, port, result } = await startCli(t, ['start', '-c', config], {
    env: childEnv({ PORT: '0', BACKEND_URL: be.url, LOG_LEVEL: 'info' }),
  });

  const res = await request(`http://127.0.0.1:${port}/via-cli`, { headers: { 'x-request-id': 'cli-1' } });
  t.equal(res.status, 200);
  t.equal(JSON.parse(res.body).url, '/via-cli');
  t.equal(JSON.parse(res.body).headers['x-gateway'], 'gatehouse', 'add-headers.ts ran (request side)');
  t.equal(res.headers['x-served-by'], 'gatehouse (api)', 'add-headers.ts ran (response side)');
  t.equal(res.headers['x-request-id'], 'cli-1');
  t.match(res.headers['server-timing'], /^upstream;dur=/, 'server-timing.js ran');

  child.kill('SIGTERM');
  const { code, signal, stdout } = await result;
  t.equal(signal, null, 'not killed by the signal');
  t.equal(code, 0, 'SIGTERM drains and exits 0');
  t.match(stdout, '"gatehouse stopped"');
  t.match(stdout, /"access":true.*"path":"\/via-cli".*"status":200/, 'the request was access-logged');
});

t.test('start refuses an invalid config and never listens', async (t) => {
  const dir = t.testdir({ 'gatehouse.yaml': 'server:\n  http: { port: 0 }\nroutes:\n  - plugins:\n      - ./missing-plugin.ts: {}\n' });
  const res = await runCli(['start'], { cwd: dir });
  t.equal(res.code, 1);
  t.match(
    res.stderr,
    /GH_ERR_CONFIG_INVALID[\s\S]*gatehouse\.yaml:5:9 \/routes\/0\/plugins\/0: plugin file \S+missing-plugin\.ts does not exist/,
  );
  t.notMatch(res.stdout, 'gatehouse listening');
});
