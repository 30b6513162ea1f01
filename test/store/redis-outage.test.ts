import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { RegistryClient } from '../../app';
import { startGatehouse, tempDir, until, type GatehouseProcess } from '../helpers/gatehouse-process';
import { startRedis } from '../helpers/redis';
import { request, startBackend } from '../helpers/servers';
import { recordingBackend } from '../plugins/webhook-ingest/harness';

/**
 * docs/several-instances.md, tested: two gatehouse processes on one real redis-server, which is
 * SIGKILLed and, after OUTAGE_MS, started again on the same port from the same AOF. Requests that
 * need no state never fail; ingest answers 503 with Retry-After within a bound instead of
 * accepting; /readyz names the store; once Redis is back, everything resumes without a restart.
 * The outage is 30 s; the default here is 4 s (GATEHOUSE_REDIS_OUTAGE_MS=30000 for the full one).
 */

t.setTimeout(240000);
const OUTAGE_MS = Number(process.env.GATEHOUSE_REDIS_OUTAGE_MS ?? 4000);
const TOKEN = 'outage-admin-token-0123456789abc';
/** How long an ingest may take to answer 503 while Redis is gone (ioredis's offline queue would hold it for seconds). */
const REFUSE_WITHIN_MS = 1500;

/** One POST of a webhook on a fresh connection: status, Retry-After and how long it took. */
function post(port: number, body: string): Promise<{ status: number; retryAfter?: string; ms: number }> {
  const sent = Date.now();
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/hook', method: 'POST', agent: false, headers: { 'content-type': 'text/plain' } },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, ms: Date.now() - sent }),
        );
      },
    );
    req.on('error', () => resolve({ status: 0, ms: Date.now() - sent }));
    req.end(body);
  });
}

/** The probe's runs in one process, as [start, stop] epoch ms (stop Infinity while it runs). */
function runsOf(gh: GatehouseProcess): [number, number][] {
  const out: [number, number][] = [];
  for (const l of gh.logs) {
    if (l.probe === 'start') out.push([l.at as number, Infinity]);
    if (l.probe === 'stop' && out.length > 0) out[out.length - 1]![1] = l.at as number;
  }
  return out;
}

/** Milliseconds both processes ran the singleton at once (0: never). */
function overlapMs(a: [number, number][], b: [number, number][]): number {
  let ms = 0;
  for (const [s1, e1] of a) for (const [s2, e2] of b) ms += Math.max(0, Math.min(e1, e2, Date.now()) - Math.max(s1, s2));
  return ms;
}

const running = (gh: GatehouseProcess) => runsOf(gh).some(([, end]) => end === Infinity);

t.test(`two instances on one Redis ride out a ${OUTAGE_MS} ms outage of it`, async (t) => {
  const srv = await startRedis(t);
  if (!srv) return;
  const plain = await startBackend(t, (_req, res) => res.end('plain'));
  const svcA = await startBackend(t, (_req, res) => res.end('svc-a'));
  const svcB = await startBackend(t, (_req, res) => res.end('svc-b'));
  // The sink refuses (503, Retry-After: 1) until opened, so messages stay queued across the outage.
  const sink = await recordingBackend(t);
  let sinkOpen = false;
  const delivered = new Set<string>();
  sink.answer((r) => {
    if (!sinkOpen) return { status: 503, headers: { 'retry-after': '1' } };
    delivered.add(r.body);
    return { status: 200 };
  });
  const dir = tempDir(t, 'redis-outage-');
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(
    file,
    [
      'server: { http: { port: 0, host: 127.0.0.1 } }',
      `admin: { port: 0, token: ${TOKEN} }`,
      `store: { url: "${srv.url}", prefix: "outage:" }`,
      'registry: {}',
      'log: { level: info, accessLog: false }',
      `upstreams: { plain: { targets: ["${plain.url}"] }, sink: { targets: ["${sink.url}"] }, svc: { registry: svc } }`,
      'plugins:',
      `  - ${JSON.stringify(join(__dirname, 'fixtures/singleton-probe.js'))}: {}`,
      'routes:',
      '  - match: { pathExact: /plain }',
      '    upstream: plain',
      '  - match: { pathExact: /respond }',
      '    plugins: [{ respond: { body: fixed } }]',
      '  - match: { pathExact: /svc }',
      '    upstream: svc',
      '  - match: { pathExact: /hook }',
      '    plugins:',
      '      - webhook-ingest:',
      '          preset: none',
      '          deliver: { upstream: sink, pollMs: 50, retryAfterMaxMs: 1000 }',
      '          circuit: { failures: 1000000 }',
      '',
    ].join('\n'),
  );
  const a = await startGatehouse(t, file);
  const b = await startGatehouse(t, file);
  const both = [a, b];
  const admin = (gh: GatehouseProcess) => new RegistryClient({ adminUrl: `http://127.0.0.1:${gh.adminPort}`, token: TOKEN, retries: 0 });
  const readyz = async (gh: GatehouseProcess, query = '') => {
    const r = await request(`http://127.0.0.1:${gh.adminPort}/readyz${query}`);
    return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> };
  };

  await t.test('before: the registry is shared, one process leads, webhooks are accepted', async (t) => {
    await admin(a).add('svc', { targets: [svcA.url] });
    await until(async () => (await request(`http://127.0.0.1:${b.port}/svc`)).body === 'svc-a', 5000);
    t.pass('an entry added through a routes in b');
    await until(async () => running(a) || running(b), 15000);
    t.ok(running(a) !== running(b), 'exactly one process runs the singleton');
    for (let i = 0; i < 10; i++) {
      const r = await post(both[i % 2]!.port, `before-${i}`);
      t.equal(r.status, 200, `before-${i} accepted`);
    }
    for (const gh of both) t.match(await readyz(gh, '?require=store'), { status: 200, body: { store: { up: true } } }, 'ready, store up');
  });

  // Traffic that needs no state, on both processes, from now until after Redis is back.
  const stateless = { ok: 0, failed: [] as string[] };
  let loading = true;
  const load = Promise.all(
    both.flatMap((gh) =>
      ['/plain', '/respond'].map(async (path) => {
        while (loading) {
          try {
            const r = await request(`http://127.0.0.1:${gh.port}${path}`);
            if (r.status === 200) stateless.ok++;
            else stateless.failed.push(`${path} ${r.status} ${r.body.slice(0, 200)}`);
          } catch (err) {
            stateless.failed.push(`${path} ${(err as Error).message}`);
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      }),
    ),
  );

  const killedAt = Date.now();
  await srv.kill();
  await t.test('while Redis is gone', async (t) => {
    const answers: { status: number; retryAfter?: string; ms: number }[] = [];
    let readyChecked = false;
    let i = 0;
    while (Date.now() - killedAt < OUTAGE_MS) {
      answers.push(await post(both[i % 2]!.port, `during-${i}`));
      i++;
      if (!readyChecked && Date.now() - killedAt > 500) {
        readyChecked = true;
        for (const gh of both) {
          const r = await readyz(gh);
          t.match(
            r,
            { status: 200, body: { status: 'ready', store: { backend: 'redis', up: false, reason: /unreachable/ } } },
            '/readyz: ready, store down',
          );
          const strict = await readyz(gh, '?require=store');
          t.match(strict, { status: 503, body: { reasons: [{ reason: /state store unavailable/ }] } }, '/readyz?require=store: not ready');
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const times = answers.map((r) => r.ms).sort((x, y) => x - y);
    const slowest = times[times.length - 1]!;
    t.comment(`503 answer times (ms): median ${times[times.length >> 1]}, slowest ${slowest}, all ${JSON.stringify(times)}`);
    t.ok(answers.length > 3, `${answers.length} webhooks sent while Redis was gone`);
    t.same(
      answers.filter((r) => r.status !== 503 || r.retryAfter === undefined),
      [],
      'every one answered 503 with Retry-After',
    );
    t.ok(slowest < REFUSE_WITHIN_MS, `each within ${REFUSE_WITHIN_MS} ms (slowest ${slowest} ms)`);
  });
  await srv.restart();
  const backAt = Date.now();
  t.comment(`Redis was gone for ${backAt - killedAt} ms`);

  await t.test('after Redis is back, without a restart', async (t) => {
    await until(async () => (await post(a.port, 'after-a')).status === 200, 10000);
    const accepted = Date.now() - backAt;
    t.equal((await post(b.port, 'after-b')).status, 200, `ingest accepts again (a after ${accepted} ms, then b)`);
    await until(
      async () => (await readyz(a, '?require=store')).status === 200 && (await readyz(b, '?require=store')).status === 200,
      10000,
    );
    t.pass('both ready again');
    await admin(b).add('svc', { targets: [svcB.url] });
    const sent = Date.now();
    await until(async () => (await request(`http://127.0.0.1:${a.port}/svc`)).body === 'svc-b', 5000, 10);
    t.ok(Date.now() - sent < 1000, `a change through b is routed by a after ${Date.now() - sent} ms (its watch resubscribed)`);
    sinkOpen = true;
    const expected = [...Array.from({ length: 10 }, (_, i) => `before-${i}`), 'after-a', 'after-b'];
    await until(async () => expected.every((m) => delivered.has(m)), 20000);
    t.pass('every message accepted before the outage, and after it, is delivered');
    t.same(
      [...delivered].filter((m) => m.startsWith('during-')),
      [],
      'none of those refused during the outage was stored',
    );
    // The lock's TTL (10 s) may still run after Redis returns; a leader is back within it plus a renewal.
    await until(async () => running(a) || running(b), 20000);
    t.ok(running(a) !== running(b), `exactly one process runs the singleton again (a: ${running(a)}, b: ${running(b)})`);
    t.equal(overlapMs(runsOf(a), runsOf(b)), 0, 'the two never ran it at the same time');
    t.comment(
      `singleton runs: a ${JSON.stringify(runsOf(a))}, b ${JSON.stringify(runsOf(b))}; Redis killed at ${killedAt}, back at ${backAt}`,
    );
  });

  loading = false;
  await load;
  t.ok(stateless.ok > 50, `${stateless.ok} stateless requests answered 200`);
  t.same(stateless.failed, [], 'none failed');
});
