import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import t, { type Test } from 'tap';
import { parse, stringify } from 'yaml';
import { validateConfig } from '../../app';
import { GatehouseError } from '../../core/errors';
import { buildIfStale, pooled, ROOT, runCli } from '../helpers/cli-run';
import { mutateData, mutateText, prng } from '../helpers/config-mutations';

/**
 * Config fuzzing: a few hundred configs mutated from the examples and from inline configs
 * that use every section and built-in plugin. Each goes through validateConfig or loadConfig,
 * in a worker thread of this process (the compiled dist/, as the CLI runs it) so that a hang
 * is cut after LIMIT_MS and reported with its case instead of stalling the run. Every outcome
 * must be a valid config or a GatehouseError with a code and a message without a stack trace.
 * The seed is fixed so failures reproduce; GATEHOUSE_FUZZ_SEED=n tries another sequence.
 */

const SEED = Number(process.env.GATEHOUSE_FUZZ_SEED ?? 20261201);
/**
 * Per config. Most take under 50 ms; the slowest are YAML flow collections nested thousands
 * deep, which yaml's recursive parser gives up on by stack overflow: ~0.1 s on the main thread,
 * up to ~2 s in a worker (4 MiB stack: it recurses four times deeper first) on a loaded machine.
 */
const LIMIT_MS = 5000;
const COUNTS = { data: 260, text: 150, json: 50 };
/** The environment configs are interpolated with (not this process's: the outcome must not depend on the machine). */
const FUZZ_ENV = { GATEHOUSE_FUZZ_SET: '1' };

const INLINE: Record<string, unknown>[] = [
  {
    server: {
      http: { port: 0, host: '127.0.0.1', redirectToHttps: false },
      https: { port: 0, host: '127.0.0.1', selfSigned: { hosts: ['localhost', '127.0.0.1'], dir: './tls', days: 30 } },
      trustProxy: ['10.0.0.0/8', '::1'],
      timeouts: { headers: 1000, request: 2000, keepAlive: 500 },
      maxHeaderSize: 16384,
      maxUrlLength: 4096,
      shutdownGrace: 100,
      tuning: { gcEveryMiB: 8 },
    },
    admin: { port: 0, host: '127.0.0.1', token: 'fuzz-token-0123456789' },
    store: 'sqlite:./data/fuzz.db',
    log: { level: 'silent', accessLog: false },
    upstreams: {
      app: {
        targets: ['http://127.0.0.1:3001', 'http://127.0.0.1:3002'],
        timeout: 1000,
        maxSockets: 8,
        maxFreeSockets: 2,
        keepAliveMs: 1000,
        changeOrigin: true,
        insecure: false,
      },
    },
    plugins: [],
    routes: [
      {
        name: 'api',
        match: {
          host: ['*.example.com', 'api.test'],
          pathRegex: '^/api/(v1|v2)/',
          methods: ['GET', 'POST'],
          headers: { 'x-env': 'canary', 'x-tier': { regex: '^(gold|silver)$' } },
        },
        rewrite: { pattern: '^/api/(.*)$', replacement: '/$1' },
        upstream: 'app',
        websocket: true,
      },
      {
        name: 'hc',
        match: { pathExact: '/hc' },
        plugins: [{ respond: { status: 200, body: 'OK', headers: { 'cache-control': 'no-store' } } }],
      },
      {
        name: 'files',
        match: { path: '/files/' },
        stripPrefix: '/files',
        plugins: [
          {
            'hash-rewrite': {
              metadata: 'http://127.0.0.1:8121',
              mode: 'x-accel',
              accelPrefix: '/archivei_accel',
              hashTypes: ['sha1', 'md5'],
              cache: { max: 10, ttl: 1000, negativeTtl: 100 },
            },
          },
          {
            'accel-redirect': { locations: { '/archivei_accel/': { upstream: 'app', stripPrefix: true } }, keepHeaders: ['content-type'] },
          },
        ],
      },
      {
        name: 'regions',
        match: { path: '/regionInfo' },
        plugins: [
          {
            'region-routing': {
              regions: {
                eu: {
                  publicIps: ['10.0.0.0/8'],
                  publicIpsV6: ['2001:db8::/32'],
                  servers: [{ ip: '10.0.0.1', ipv6: '2001:db8::1', name: 'smt-eu', registryName: 'reg-eu', fingerprint: 'AB:CD' }],
                },
              },
            },
          },
        ],
      },
      { match: { path: '/' }, upstream: 'app' },
    ],
  },
  { routes: [{ plugins: [{ respond: { json: { ok: true, list: [1, 2, 3] } } }] }] },
];

/** The worker: loads the compiled config loader once, then validates what it is sent. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
require(workerData.root + '/node_modules/reflect-metadata');
const { validateConfig, loadConfig } = require(workerData.root + '/dist/app/index.js');
const { GatehouseError } = require(workerData.root + '/dist/core/errors.js');
const env = workerData.env;
parentPort.on('message', async (job) => {
  const t0 = performance.now();
  let outcome = { ok: true };
  try {
    if (job.file) await loadConfig(job.file, { env });
    else validateConfig(job.value, { file: job.configFile, env });
  } catch (e) {
    outcome = { ok: false, gatehouse: e instanceof GatehouseError, name: e && e.name, code: e && e.code, message: String(e && e.message) };
  }
  parentPort.postMessage({ i: job.i, ms: performance.now() - t0, outcome });
});`;

interface Job {
  i: number;
  what: string;
  value?: unknown;
  file?: string;
  configFile?: string;
}
interface Outcome {
  ok: boolean;
  gatehouse?: boolean;
  name?: string;
  code?: string;
  message?: string;
}
interface Result {
  job: Job;
  ms: number;
  outcome?: Outcome;
  hang?: boolean;
}

/** Run jobs one at a time in a worker; one that passes LIMIT_MS is reported as a hang and the worker replaced. */
async function runInWorker(jobs: Job[]): Promise<Result[]> {
  const results: Result[] = [];
  let worker: Worker | undefined;
  // execArgv: [] leaves out tap's loaders and --enable-source-maps, which makes every error's
  // stack (yaml throws and catches a RangeError per level of a too-deep document) ten times slower.
  const fresh = () => new Worker(WORKER, { eval: true, execArgv: [], workerData: { root: ROOT, env: FUZZ_ENV } });
  for (const job of jobs) {
    worker ??= fresh();
    const w = worker;
    const r = await new Promise<Result>((done) => {
      const timer = setTimeout(() => done({ job, ms: LIMIT_MS, hang: true }), LIMIT_MS);
      w.once('message', (m: { ms: number; outcome: Outcome }) => {
        clearTimeout(timer);
        done({ job, ms: m.ms, outcome: m.outcome });
      });
      w.once('error', (e) => {
        clearTimeout(timer);
        done({ job, ms: 0, outcome: { ok: false, gatehouse: false, name: 'worker error', message: String(e) } });
      });
      const { what: _what, ...sent } = job;
      w.postMessage(sent);
    });
    w.removeAllListeners('message');
    w.removeAllListeners('error');
    if (r.hang || (r.outcome && r.outcome.name === 'worker error')) {
      await w.terminate();
      worker = undefined;
    }
    results.push(r);
  }
  await worker?.terminate();
  return results;
}

/** Why a result is not acceptable, or undefined when it is. */
function problem(r: Result): string | undefined {
  if (r.hang) return `no answer within ${LIMIT_MS} ms`;
  const o = r.outcome!;
  if (o.ok) return undefined;
  if (!o.gatehouse) return `threw ${o.name}: ${o.message?.slice(0, 200)}`;
  if (!/^GH_ERR_[A-Z_]+$/.test(o.code ?? '')) return `a GatehouseError without a catalogue code (${o.code})`;
  if (!o.message) return 'an empty message';
  if (/\n\s+at \S/.test(o.message)) return 'a stack trace in the message';
  return undefined;
}

function check(t: Test, label: string, results: Result[]): void {
  const bad = results
    .map((r) => [r, problem(r)] as const)
    .filter(([, p]) => p)
    .map(([r, p]) => `seed ${SEED} #${r.job.i} (${r.job.what}): ${p}`);
  t.same(bad, [], `${label}: every one is valid or a coded GatehouseError without a stack trace, none hangs`);
  const codes = new Map<string, number>();
  for (const r of results) {
    const kind = r.hang ? 'hang' : r.outcome!.ok ? 'valid' : r.outcome!.gatehouse ? String(r.outcome!.code) : `crash (${r.outcome!.name})`;
    codes.set(kind, (codes.get(kind) ?? 0) + 1);
  }
  t.comment(
    `${label}: ${results.length} configs; ${[...codes].map(([k, n]) => `${k} ${n}`).join(', ')}; slowest ${Math.round(Math.max(...results.map((r) => r.ms)))} ms`,
  );
  t.ok(
    (codes.get('GH_ERR_CONFIG_INVALID') ?? 0) + (codes.get('GH_ERR_CONFIG_PARSE') ?? 0) > results.length / 3,
    `${label}: the mutations mostly break the config (they test something)`,
  );
}

t.test(`config fuzz (seed ${SEED})`, async (t) => {
  buildIfStale();
  const dir = t.testdir({ tls: {} });
  // The custom-plugin example loads its plugins by path relative to the config file.
  for (const f of ['add-headers.ts', 'server-timing.js']) copyFileSync(join(ROOT, 'examples/custom-plugin', f), join(dir, f));
  const exampleTexts = ['quick-start', 'custom-plugin'].map((e) => readFileSync(join(ROOT, 'examples', e, 'gatehouse.yaml'), 'utf8'));
  const bases = [...exampleTexts.map((text) => parse(text) as unknown), ...INLINE];
  const texts = [...exampleTexts, ...INLINE.map((c) => stringify(c))];
  const r = prng(SEED);
  const configFile = join(dir, 'gatehouse.yaml');
  mkdirSync(join(dir, 'fuzz'));
  for (const f of ['add-headers.ts', 'server-timing.js']) copyFileSync(join(ROOT, 'examples/custom-plugin', f), join(dir, 'fuzz', f));

  let i = 0;
  const dataJobs: Job[] = Array.from({ length: COUNTS.data }, () => {
    const { value, what } = mutateData(r, bases[Math.floor(r() * bases.length)]);
    return { i: i++, what, value, configFile };
  });
  const textJobs: Job[] = Array.from({ length: COUNTS.text }, () => {
    const { text, what } = mutateText(r, texts[Math.floor(r() * texts.length)]);
    const file = join(dir, 'fuzz', `${i}.yaml`);
    writeFileSync(file, text);
    return { i: i++, what, file };
  });
  const jsonJobs: Job[] = Array.from({ length: COUNTS.json }, () => {
    let m;
    // JSON text has no shared references: a reference bomb would expand 2^30-fold when written.
    do m = mutateData(r, bases[Math.floor(r() * bases.length)]);
    while (m.what.includes('bomb'));
    const { value, what } = m;
    const file = join(dir, 'fuzz', `${i}.json`);
    writeFileSync(file, JSON.stringify(value) ?? 'null');
    return { i: i++, what: `json: ${what}`, file };
  });
  const started = Date.now();
  const results = await runInWorker([...dataJobs, ...textJobs, ...jsonJobs]);
  t.comment(`${results.length} configs in ${Date.now() - started} ms`);
  check(t, 'data mutations (validateConfig)', results.slice(0, COUNTS.data));
  check(t, 'YAML text mutations (loadConfig)', results.slice(COUNTS.data, COUNTS.data + COUNTS.text));
  check(t, 'JSON files (loadConfig)', results.slice(COUNTS.data + COUNTS.text));

  t.test('a handful through the real CLI: exit 1 and one coded message on stderr', async (t) => {
    const refused = results
      .filter((x) => x.job.file && x.outcome && !x.outcome.ok)
      .filter((_, n) => n % 9 === 0)
      .slice(0, 6);
    t.ok(refused.length >= 4, `${refused.length} refused files picked`);
    // The same environment as in the worker, so that ${VAR:-default} placeholders resolve alike.
    const env = { PATH: process.env.PATH ?? '', ...FUZZ_ENV };
    const runs = await pooled(refused.map((x) => () => runCli(['validate', '-c', x.job.file!], { cwd: dir, env })));
    refused.forEach((x, n) => {
      const run = runs[n];
      const lines = run.stderr.trimEnd().split('\n');
      t.equal(run.code, 1, `#${x.job.i} (${x.job.what}): exit 1`);
      // Not always the in-process code: yaml's parser recurses, and a worker thread's stack is not
      // the main thread's, so a deep flow collection can be a parse error in one, a depth error in the other.
      t.match(
        lines[0],
        /^GH_ERR_CONFIG_[A-Z_]+: /,
        `#${x.job.i}: a config error code (in-process: ${x.outcome!.code}; the CLI said ${run.stderr.slice(0, 200)})`,
      );
      t.same(
        lines.slice(1).filter((l) => !l.startsWith('  ')),
        [],
        `#${x.job.i}: one message`,
      );
      t.notMatch(run.stderr, /^\s+at \S/m, `#${x.job.i}: no stack trace`);
    });
  });
});

t.test('what cannot cross into a worker, checked here: functions, symbols, BigInts, class instances', async (t) => {
  const odd: [string, unknown, string][] = [
    ['a function as the config', () => ({ routes: [] }), '/: found a function'],
    [
      'a method inside',
      {
        routes: [
          {
            plugins: [
              {
                respond: {
                  body() {
                    return 'x';
                  },
                },
              },
            ],
          },
        ],
      },
      '/routes/0/plugins/0/respond/body: found a function',
    ],
    ['a symbol', { routes: [{ name: Symbol('r'), plugins: [{ respond: {} }] }] }, '/routes/0/name: found a symbol'],
    ['a BigInt', { server: { http: { port: 8080n } }, routes: [] }, '/server/http/port: found the BigInt 8080n'],
    ['a Map', { upstreams: new Map(), routes: [] }, '/upstreams: found a Map'],
    [
      'a class instance',
      {
        routes: [
          new (class Route {
            name = 'x';
          })(),
        ],
      },
      '/routes/0: found a Route',
    ],
    ['undefined', undefined, '/: found undefined, expected object'],
    ['null', null, '/: found null, expected object'],
  ];
  for (const [desc, value, fragment] of odd) {
    t.test(desc, async (t) => {
      const err = t.throws(() => validateConfig(value)) as unknown;
      t.type(err, GatehouseError);
      t.equal((err as GatehouseError).code, 'GH_ERR_CONFIG_INVALID');
      t.match((err as Error).message, fragment);
    });
  }
});
