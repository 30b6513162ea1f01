import t from 'tap';
import { main } from '../../../app/cli';
import { TOKEN, eventually, moPost, post, recordingBackend, webhookGateway } from './harness';

/** Run `gatehouse webhooks …` in-process; resolves with the exit code and what it printed. */
async function cli(args: string[], env: Record<string, string>) {
  const lines: string[] = [];
  const errors: string[] = [];
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await main(['webhooks', ...args], { log: (s) => lines.push(s), error: (s) => errors.push(s) });
    return { code, out: lines.join('\n'), err: errors.join('\n') };
  } finally {
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

t.test('gatehouse webhooks list | show | replay | purge against a running gatehouse', async (t) => {
  const be = await recordingBackend(t);
  be.answer(() => ({ status: 410 }));
  const { url, gw } = await webhookGateway(t, be.url, { verify: { required: false } });
  const env = { GATEHOUSE_ADMIN_URL: `http://127.0.0.1:${gw.addresses.admin!.port}`, GATEHOUSE_ADMIN_TOKEN: TOKEN };
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await post(url, moPost('300000000000050', i))).headers['gatehouse-delivery-id'] as string);
  await eventually(async () => (await cli(['list', '--instance', 'hook', '--json'], env)).out.includes('"dead": 3'));

  const cases: { desc: string; args: string[]; code: number; out?: RegExp; err?: RegExp }[] = [
    { desc: 'list', args: ['list', '--instance', 'hook'], code: 0, out: new RegExp(`dead 3[\\s\\S]*${ids[0]}\\tdead\\t.*410`) },
    { desc: 'show', args: ['show', ids[1], '--instance', 'hook'], code: 0, out: /"state": "dead"/ },
    {
      desc: 'list --state open: counts, no open message',
      args: ['list', '--state', 'open', '--instance', 'hook'],
      code: 0,
      out: /^ready 0 .*dead 3 .*$/,
    },
    {
      desc: 'list --state with an unknown state',
      args: ['list', '--state', 'acked', '--instance', 'hook'],
      code: 2,
      err: /state must be one of/,
    },
    { desc: 'show an unknown id', args: ['show', 'nope', '--instance', 'hook'], code: 1, err: /MESSAGE_NOT_FOUND/ },
    { desc: 'purge one', args: ['purge', ids[2], '--instance', 'hook'], code: 0, out: /^purged 1$/ },
    { desc: 'no --instance', args: ['list'], code: 2, err: /--instance is required/ },
    { desc: 'replay without an id or --all', args: ['replay', '--instance', 'hook'], code: 2, err: /missing or bad arguments/ },
    { desc: 'an unknown instance', args: ['list', '--instance', 'other'], code: 1, err: /404|NOT_FOUND/ },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const r = await cli(c.args, env);
      t.equal(r.code, c.code, `exit ${c.code}`);
      if (c.out) t.match(r.out, c.out, 'output');
      if (c.err) t.match(r.err, c.err, 'error');
    });
  }
  be.answer(() => ({ status: 200 }));
  const replayed = await cli(['replay', '--all', '--instance', 'hook'], env);
  t.same([replayed.code, replayed.out], [0, 'replayed 2']);
  await eventually(() => be.seen.length === 5);
  t.same(new Set(be.seen.slice(3).map((s) => s.headers['gatehouse-delivery-id'])), new Set(ids.slice(0, 2)), 'the two left were delivered');
  const unreachable = await cli(['list', '--instance', 'hook'], { ...env, GATEHOUSE_ADMIN_URL: 'http://127.0.0.1:9' });
  t.equal(unreachable.code, 3, 'an admin listener that is not there: exit 3');
});
