#!/usr/bin/env node
'use strict';
/**
 * load-balancer benchmark (see bench/README.md, "Async tasks"):
 *  1. dispatch overhead: tasks submitted open loop at a fixed rate (POST /<service>/process),
 *     measured from when each submission was due to when a worker received the task (submit →
 *     worker start), p50/p99, with workers fast and free enough that nothing queues;
 *  2. throughput: a backlog of tasks of a fixed service time on 4 workers at concurrency 1,
 *     from the first task's start to the last one's end, against the ideal 4 × 1/service time.
 *
 *   npx tsc -p . && node bench/tasks.js [--rate 100] [--duration 10] [--service-ms 200] [--tasks 160] [--store URL]
 *
 * The overhead phase uses its own service on --fast-workers (16) workers, so that no task waits
 * for a free one. Gatehouse runs in a child process (bin/gatehouse.js start, SQLite store in a temp dir unless
 * --store); the workers and the load generator run here, so both ends of each measurement are
 * read from one clock.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { ROOT, requireBuild, opt, child, until, pct } = require('./lib');

requireBuild();
const RATE = Number(opt('rate', 100));
const DURATION = Number(opt('duration', 10));
const SERVICE_MS = Number(opt('service-ms', 200));
const TASKS = Number(opt('tasks', 160));
const WORKERS = 4;
/** Workers of the overhead phase: enough that tasks never wait for one (what is measured is gatehouse's part). */
const FAST_WORKERS = Number(opt('fast-workers', 16));
const now = () => performance.timeOrigin + performance.now();
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const WAIT = 'timed out waiting for the tasks';

/** Workers at concurrency 1: each task's arrival and end time by id; a second task at once is a violation. */
const arrivals = new Map();
const ends = new Map();
let violations = 0;
function worker() {
  let busy = 0;
  const server = http.createServer((req, res) => {
    const id = req.headers['gatehouse-task-id'];
    arrivals.set(id, now());
    if (++busy > 1) violations += 1;
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const { ms } = JSON.parse(Buffer.concat(chunks).toString());
      setTimeout(() => {
        busy -= 1;
        ends.set(id, now());
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }, ms);
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

function post(port, urlPath, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: urlPath,
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
    });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

const r2 = (x) => Math.round(x * 100) / 100;

async function main() {
  const servers = await Promise.all(Array.from({ length: FAST_WORKERS + WORKERS }, worker));
  const url = (s) => `"http://127.0.0.1:${s.address().port}"`;
  // Two services on the same store: "fast" on many workers for the overhead, "bench" on 4 for the throughput.
  const fast = servers.slice(0, FAST_WORKERS).map(url);
  const targets = servers.slice(FAST_WORKERS).map(url);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tasks-'));
  const store = opt('store', `sqlite:${path.join(dir, 'gatehouse.db')}`);
  const file = path.join(dir, 'gatehouse.yaml');
  fs.writeFileSync(
    file,
    [
      'server: { http: { port: 0, host: 127.0.0.1 } }',
      'log: { level: info, accessLog: false }',
      `store: ${store}`,
      'upstreams:',
      `  workers: { targets: [${targets.join(', ')}], maxConnectionsPerTarget: 1 }`,
      `  fast: { targets: [${fast.join(', ')}], maxConnectionsPerTarget: 1 }`,
      'routes:',
      '  - match: { path: /bench/ }',
      '    plugins:',
      '      - load-balancer: { service: bench, upstream: workers, heartbeatMs: 10000, pollMs: 20, resultTtlMs: 600000 }',
      '  - match: { path: /fast/ }',
      '    plugins:',
      '      - load-balancer: { service: fast, upstream: fast, heartbeatMs: 10000, pollMs: 20, resultTtlMs: 600000 }',
      '',
    ].join('\n'),
  );
  const { proc: gh, port } = await child([path.join(ROOT, 'bin/gatehouse.js'), 'start', '-c', file]);
  const load = os.loadavg();
  try {
    // Warm-up: a few tasks through every path.
    for (let i = 0; i < 20; i++) await post(port, i % 2 ? '/bench/process' : '/fast/process', { ms: 1 });
    await until(() => ends.size >= 20, 30000, WAIT);

    // 1. Dispatch overhead, open loop: each submission leaves when due, whatever the answers do.
    const due = new Map();
    const acks = [];
    const n = Math.round(RATE * DURATION);
    const t0 = now() + 50;
    const sent = [];
    for (let i = 0; i < n; i++) {
      const at = t0 + (i * 1000) / RATE;
      const wait = at - now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait - 1));
      while (now() < at);
      sent.push(
        post(port, '/fast/process', { ms: 5 }).then((r) => {
          due.set(r.json.uuid, at);
          acks.push(now() - at);
        }),
      );
    }
    await Promise.all(sent);
    await until(() => [...due.keys()].every((id) => ends.has(id)), 60000, WAIT);
    const overhead = [...due].map(([id, at]) => arrivals.get(id) - at);

    // 2. Throughput on a backlog.
    const ids = [];
    const backlog = [];
    for (let i = 0; i < TASKS; i++) backlog.push(post(port, '/bench/process', { ms: SERVICE_MS }).then((r) => ids.push(r.json.uuid)));
    await Promise.all(backlog);
    await until(() => ids.every((id) => ends.has(id)), 120000 + TASKS * SERVICE_MS, WAIT);
    const first = Math.min(...ids.map((id) => arrivals.get(id)));
    const last = Math.max(...ids.map((id) => ends.get(id)));
    const throughput = (TASKS * 1000) / (last - first);
    const ideal = (WORKERS * 1000) / SERVICE_MS;
    const result = {
      node: process.version,
      cpus: os.cpus().length,
      loadavgBefore: load.map(r2),
      loadavgAfter: os.loadavg().map(r2),
      store: store.startsWith('sqlite:') ? 'sqlite (strict)' : store.replace(/\/\/.*@/, '//'),
      overhead: {
        rate: RATE,
        tasks: n,
        workers: FAST_WORKERS,
        p50Ms: r2(pct(overhead, 50)),
        p99Ms: r2(pct(overhead, 99)),
        maxMs: r2(Math.max(...overhead)),
      },
      submitAck: { p50Ms: r2(pct(acks, 50)), p99Ms: r2(pct(acks, 99)) },
      throughput: {
        workers: WORKERS,
        serviceMs: SERVICE_MS,
        tasks: TASKS,
        perSec: r2(throughput),
        idealPerSec: ideal,
        ratio: r2(throughput / ideal),
      },
      violations,
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    gh.kill('SIGTERM');
    await new Promise((r) => gh.once('exit', r));
    for (const s of servers) s.close();
    agent.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
