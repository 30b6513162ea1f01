import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBackend } from '../helpers/servers';
import { runCli } from '../helpers/cli-run';
import { tempDir } from '../helpers/gatehouse-process';

/** `server.workers: 2` starts that must fail: as a single process does, and once. */

t.test('an invalid config refuses the start with the single-process message, exit 1', async (t) => {
  const dir = tempDir(t);
  const bad = (workers: number) => ({
    server: { http: { port: 0 }, workers, htp: {} },
    routes: [{ match: { path: '/' }, upstream: 'nowhere' }],
  });
  const results = [];
  for (const workers of [1, 2]) {
    const file = join(dir, `w${workers}.json`);
    writeFileSync(file, JSON.stringify(bad(workers)));
    results.push(await runCli(['start', '-c', file], { ms: 20000 }));
  }
  for (const r of results) {
    t.equal(r.code, 1, r.stderr);
    t.match(r.stderr, /GH_ERR_CONFIG_INVALID/);
  }
  t.equal(results[1].stderr.replace(/w2\.json/g, 'F'), results[0].stderr.replace(/w1\.json/g, 'F'), 'the same message');
});

t.test('a port in use stops the start once (GH_ERR_LISTEN, exit 1), not once per worker', async (t) => {
  const dir = tempDir(t);
  const taken = await startBackend(t, (_req, res) => res.end());
  const file = join(dir, 'gatehouse.json');
  writeFileSync(
    file,
    JSON.stringify({
      server: { http: { port: Number(new URL(taken.url).port), host: '127.0.0.1' }, workers: 2 },
      routes: [{ match: { path: '/' }, plugins: [{ respond: { status: 200 } }] }],
    }),
  );
  const r = await runCli(['start', '-c', file], { ms: 20000 });
  t.equal(r.code, 1, r.stderr);
  t.equal(r.stderr.match(/GH_ERR_LISTEN/g)?.length, 1, r.stderr);
});
