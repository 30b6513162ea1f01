import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGateway } from '../../app';
import { buildIfStale, runCli } from '../helpers/cli-run';
import { captureLogger } from '../helpers/servers';
import { tempDir } from '../helpers/gatehouse-process';

/**
 * `gatehouse registry …` as users run it (node bin/gatehouse.js), against a gateway with a
 * registry on a real SQLite store: exit codes, --json, and the original's answer strings.
 */

const TOKEN = 'registry-cli-token-0123456789';

t.test('gatehouse registry: commands, exit codes and --compat physarum', async (t) => {
  buildIfStale();
  const dir = tempDir(t);
  const gw = await createGateway({
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      admin: { port: 0, token: TOKEN },
      store: `sqlite:${join(dir, 'cli.db')}`,
      registry: {},
      routes: [{ match: { path: '/' }, plugins: [{ respond: {} }] }],
    },
    logger: captureLogger('warn').logger,
  });
  t.teardown(() => gw.close(100));
  await gw.listen();
  const admin = `http://127.0.0.1:${gw.addresses.admin!.port}`;
  const info = join(dir, 'info.json');
  writeFileSync(info, JSON.stringify({ ContentHash: 'Qm1', CpuReq: 1, targets: ['http://127.0.0.1:5001'] }));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const noToken = { PATH: process.env.PATH, GATEHOUSE_ADMIN_URL: admin };
  const env = { ...noToken, GATEHOUSE_ADMIN_TOKEN: TOKEN };
  const cases: { desc: string; args: string[]; env?: Record<string, string | undefined>; code: number; out?: RegExp; err?: RegExp }[] = [
    {
      desc: 'add, with the compat answer',
      args: ['add', 'svc', info, '--compat', 'physarum'],
      code: 0,
      out: /^Added \{svc: \{"ContentHash":"Qm1","CpuReq":1,"targets":\["http:\/\/127\.0\.0\.1:5001"\]\}\}\n$/,
    },
    {
      desc: 'get, compat',
      args: ['get', ' svc ', '--compat', 'physarum'],
      code: 0,
      out: /^\{"InfoStr":"\{\\"ContentHash\\":\\"Qm1\\".*","LookupOk":true\}\n$/,
    },
    { desc: 'get --json', args: ['get', 'svc', '--json'], code: 0, out: /"status": "passing"/ },
    { desc: 'get of an absent name: exit 1', args: ['get', 'nope'], code: 1, err: /no service named "nope"/ },
    {
      desc: 'list, compat',
      args: ['list', '--compat', 'physarum'],
      code: 0,
      out: /^\{"NameToInfoStr":\{"svc":".*"\},"LookupOk":true\}\n$/,
    },
    { desc: 'heartbeat', args: ['heartbeat', 'svc'], code: 0, out: /^svc\tpassing/ },
    { desc: 'delete, compat', args: ['delete', 'svc', '--compat', 'physarum'], code: 0, out: /^Deleted 1 entry from hash lookup\n$/ },
    {
      desc: 'delete again: exit 1, compat',
      args: ['delete', 'svc', '--compat', 'physarum'],
      code: 1,
      out: /^Error: Failed to delete any entries from hash lookup\n$/,
    },
    { desc: 'the token from a file', args: ['list', '--json', '--token-file', tokenFile], env: noToken, code: 0, out: /^\[\]\n$/ },
    { desc: 'no token: usage, exit 2', args: ['list'], env: noToken, code: 2, err: /no admin token/ },
    {
      desc: 'a wrong token: refused, exit 3',
      args: ['list'],
      env: { ...env, GATEHOUSE_ADMIN_TOKEN: 'wrong-token-0123456789' },
      code: 3,
      err: /GH_ERR_UNAUTHORIZED/,
    },
    { desc: 'nothing listening: exit 3', args: ['list', '--admin', 'http://127.0.0.1:1'], code: 3, err: /unreachable/ },
    { desc: 'an unknown verb: exit 2', args: ['frobnicate'], code: 2, err: /unknown command "frobnicate"/ },
    { desc: 'add of a file that is not JSON: exit 2', args: ['add', 'svc', tokenFile], code: 2, err: /not readable JSON/ },
    { desc: '--help: exit 0', args: ['--help'], code: 0, out: /Exit: 0 ok, 1 not found/ },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const r = await runCli(['registry', ...c.args], { env: (c.env ?? env) as NodeJS.ProcessEnv, ms: 20000 });
      t.equal(r.code, c.code, `exit code (stderr: ${r.stderr.trim()})`);
      if (c.out) t.match(r.stdout, c.out);
      if (c.err) t.match(r.stderr, c.err);
      t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});
