import t from 'tap';
import { captureLogger } from '../helpers/servers';
import { fileGateway, namedBackend, tally } from '../helpers/upstream-fixtures';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const route = [{ match: { path: '/' }, upstream: 'be' }];

async function until(what: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

/** Backends whose /health answers 200 or 500 as the test says. */
async function checkedBackends(t: Parameters<typeof namedBackend>[0], names: string[]) {
  const up = new Map(names.map((n) => [n, true]));
  const checks = new Map(names.map((n) => [n, 0]));
  const list = await Promise.all(names.map((n) => namedBackend(t, n)));
  for (const b of list) {
    b.server.removeAllListeners('request');
    b.server.on('request', (req, res) => {
      if (req.url === '/health') {
        checks.set(b.name, checks.get(b.name)! + 1);
        return void res.writeHead(up.get(b.name) ? 200 : 500).end();
      }
      res.end(b.name);
    });
  }
  return { list, up, checks };
}

t.test('active checks: a target that fails them gets no requests until it passes again; panic mode; checks stop', async (t) => {
  const { list, up, checks } = await checkedBackends(t, ['a', 'b', 'c']);
  const { logger, lines } = captureLogger('info');
  const healthCheck = { path: '/health', intervalMs: 40, timeoutMs: 200, healthy: 2, unhealthy: 2 };
  const { gw, url } = await fileGateway(t, { upstreams: { be: { targets: list.map((b) => b.url), healthCheck } }, routes: route }, [], {
    logger,
  });
  const pool = gw.upstreams.get('be')!;
  const target = (n: string) => pool.targets.find((x) => x.key.includes(`:${list.find((b) => b.name === n)!.port}/`))!;
  const cases = [
    { desc: 'all healthy: round robin over three', down: [], want: { a: 2, b: 2, c: 2 }, log: undefined },
    { desc: 'b fails its checks: a and c only', down: ['b'], want: { a: 3, c: 3 }, log: 'upstream target unhealthy' },
    { desc: 'b passes again: back in', down: [], want: { a: 2, b: 2, c: 2 }, log: 'upstream target healthy again' },
    {
      desc: 'b and c down (under half healthy): panic mode uses all',
      down: ['b', 'c'],
      want: { a: 2, b: 2, c: 2 },
      log: 'upstream in panic mode: under half its targets are healthy, all are used',
    },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      for (const n of ['a', 'b', 'c']) up.set(n, !c.down.includes(n));
      t.ok(await until(() => ['a', 'b', 'c'].every((n) => target(n).healthy === !c.down.includes(n))), 'the checks saw it');
      t.same(await tally(`${url}/`, 6, { concurrency: 1 }), c.want);
      if (c.log)
        t.ok(
          lines.some((l) => l.msg === c.log),
          `logged: ${c.log}`,
        );
    });
  }
  await t.test('a removed target is no longer checked', async (t) => {
    const b = target('b');
    pool.setTargets([list[0].url, list[2].url]);
    t.equal(b.checkTimer, undefined, 'its timer is cleared');
    // A check sent just before the removal may reach the backend later (under load): it is not a new one.
    await sleep(healthCheck.timeoutMs);
    const before = checks.get('b')!;
    await sleep(150);
    t.equal(checks.get('b'), before, 'no check after removal');
  });
  await t.test('shutdown stops every check', async (t) => {
    await gw.close(100);
    await sleep(healthCheck.timeoutMs);
    const before = checks.get('a')!;
    await sleep(150);
    t.equal(checks.get('a'), before);
  });
});

t.test('passive outlier ejection, with a growing eject time and a cap on how many', async (t) => {
  const ok = await namedBackend(t, 'ok');
  const bad = await namedBackend(t, 'bad', { status: 503 });
  const bad2 = await namedBackend(t, 'bad2', { status: 502 });
  const { logger, lines } = captureLogger('info');
  const outlier = { consecutiveFailures: 3, ejectMs: 300, maxEjectedPercent: 50 };
  const { gw, url } = await fileGateway(
    t,
    {
      upstreams: { be: { targets: [ok.url, bad.url], outlier }, two: { targets: [bad.url, bad2.url], outlier } },
      routes: [{ match: { path: '/two' }, upstream: 'two' }, ...route],
    },
    [],
    { logger },
  );
  const pool = gw.upstreams.get('be')!;
  const badT = pool.targets[1];

  await t.test('three failures in a row eject it; it returns after ejectMs', async (t) => {
    const first = await tally(`${url}/`, 6, { concurrency: 1 });
    t.same(first, { ok: 3, 'status 503': 3 }, 'round robin until the third failure');
    t.equal(badT.ejections, 1);
    t.same(await tally(`${url}/`, 6, { concurrency: 1 }), { ok: 6 }, 'ejected: no new requests');
    t.ok(
      lines.some((l) => l.msg === 'upstream target ejected' && l.ejectMs === 300),
      'logged with its eject time',
    );
    await sleep(320);
    t.same(await tally(`${url}/`, 2, { concurrency: 1 }), { ok: 1, 'status 503': 1 }, 'back after ejectMs');
    t.ok(
      lines.some((l) => l.msg === 'upstream target back from ejection'),
      'its return logged',
    );
  });

  await t.test('the next ejection lasts twice as long', async (t) => {
    await tally(`${url}/`, 4, { concurrency: 1 });
    t.equal(badT.ejections, 2);
    const left = badT.ejectedUntil - Date.now();
    t.ok(left > 450 && left <= 600, `ejected for 2 × ejectMs (${left} ms left)`);
  });

  await t.test('maxEjectedPercent 50 of two targets: one out at most', async (t) => {
    await tally(`${url}/two`, 12, { concurrency: 1 });
    t.equal(gw.upstreams.get('two')!.ejectedCount(), 1);
  });
});
