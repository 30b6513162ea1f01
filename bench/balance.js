#!/usr/bin/env node
'use strict';
/**
 * Balancing benchmark: four workers behind one gatehouse upstream, one of them ten times
 * slower; p50/p99 latency and throughput with round-robin, least-request and p2c-ewma, one
 * run each, in one invocation. Then the CPU cost of every policy against round-robin's on the
 * passthrough path (bench/balance-cpu.js). See bench/README.md ("Balancing").
 *
 *   npx tsc -p . && node bench/balance.js [--duration S] [--warmup S] [--connections N] [--fast MS]
 *       [--part latency|cpu|all] [--rounds N] [--cpu-connections N] [--no-pin]
 *
 * --part: which part to run (default all). The CPU part: --rounds (default 3) rounds of every
 * policy, --cpu-connections (default 50) autocannon connections, --no-pin: no taskset.
 *
 * Workers are CPU-bound services: each serves one request at a time, in arrival order, in a
 * fixed service time (--fast ms, default 5; the slow one 10 ×), so requests sent to a busy
 * worker wait in its own queue. The workers and autocannon run in this process; gatehouse runs
 * in a child process of its own (fresh for each policy). Default 16 connections.
 */
const { fork } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const fs = require('node:fs');

const DIST = path.join(__dirname, '..', 'dist', 'core', 'index.js');

if (process.argv[2] === '--child') {
  const { createGateway } = require(DIST);
  const pino = require('pino');
  const config = JSON.parse(process.argv[3]);
  createGateway({ config, logger: pino({ level: 'silent' }) })
    .then((gw) => gw.listen())
    .then((gw) => process.send({ port: gw.addresses.http.port }));
  return;
}

if (!fs.existsSync(DIST)) {
  console.error('Build first: npx tsc -p .  (dist/core/index.js is missing)');
  process.exit(1);
}
const autocannon = require('autocannon');

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const DURATION = opt('duration', 5);
const WARMUP = opt('warmup', 1);
const CONNECTIONS = opt('connections', 16);
const FAST_MS = opt('fast', 5);
const POLICIES = ['round-robin', 'least-request', 'p2c-ewma'];
const PART = argv.includes('--part') ? argv[argv.indexOf('--part') + 1] : 'all';
if (!['latency', 'cpu', 'all'].includes(PART)) {
  console.error(`--part ${PART}: expected latency, cpu or all`);
  process.exit(2);
}

/** A worker that serves one request at a time, in arrival order, each taking `ms`. */
function worker(ms, counts, name) {
  const waiting = [];
  let busy = false;
  const next = () => {
    const res = waiting.shift();
    if (!res) return void (busy = false);
    busy = true;
    setTimeout(() => {
      res.end(name);
      next();
    }, ms);
  };
  const s = http.createServer((req, res) => {
    counts[name] = (counts[name] ?? 0) + 1;
    req.resume();
    waiting.push(res);
    if (!busy) next();
  });
  s.keepAliveTimeout = 60000;
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r({ server: s, url: `http://127.0.0.1:${s.address().port}` })));
}

function cannon(port, seconds, latencies) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: seconds }, (err, r) =>
      err ? reject(err) : resolve(r),
    );
    if (latencies) instance.on('response', (_c, status, _b, ms) => status === 200 && latencies.push(ms));
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

async function run(policy, workers, counts) {
  const config = {
    server: { http: { port: 0, host: '127.0.0.1' } },
    log: { level: 'silent', accessLog: false },
    upstreams: { w: { targets: workers.map((w) => w.url), balance: policy } },
    routes: [{ match: { path: '/' }, upstream: 'w' }],
  };
  const child = fork(__filename, ['--child', JSON.stringify(config)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const { port } = await new Promise((r) => child.once('message', r));
  try {
    if (WARMUP > 0) await cannon(port, WARMUP);
    for (const k of Object.keys(counts)) delete counts[k];
    const latencies = [];
    const r = await cannon(port, DURATION, latencies);
    latencies.sort((a, b) => a - b);
    return {
      policy,
      rps: r.requests.average,
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      errors: r.errors + r.non2xx,
      slowShare: (counts.slow ?? 0) / Object.values(counts).reduce((a, b) => a + b, 0),
    };
  } finally {
    child.kill();
  }
}

async function latencyPart() {
  const counts = {};
  const workers = [
    await worker(FAST_MS * 10, counts, 'slow'),
    ...(await Promise.all(['w1', 'w2', 'w3'].map((n) => worker(FAST_MS, counts, n)))),
  ];
  console.log(
    `balance: 4 workers (3 × ${FAST_MS} ms, 1 × ${FAST_MS * 10} ms), ${CONNECTIONS} connections, ${WARMUP}s warm-up + ${DURATION}s per policy, node ${process.version}`,
  );
  const results = [];
  for (const p of POLICIES) results.push(await run(p, workers, counts));
  const rr = results[0];
  console.log('policy          req/s    p50 ms   p99 ms   p99/rr  slow share  errors');
  for (const r of results)
    console.log(
      `${r.policy.padEnd(14)} ${r.rps.toFixed(0).padStart(6)}  ${r.p50.toFixed(2).padStart(7)}  ${r.p99.toFixed(2).padStart(7)}  ${(r.p99 / rr.p99).toFixed(2).padStart(6)}  ${(r.slowShare * 100).toFixed(1).padStart(9)}%  ${String(r.errors).padStart(6)}`,
    );
  const ewma = results.find((r) => r.policy === 'p2c-ewma');
  console.log(
    `goal p2c-ewma p99 <= 0.3 x round-robin's: ${ewma.p99 / rr.p99 <= 0.3 ? 'met' : 'not met'} (${(ewma.p99 / rr.p99).toFixed(2)})`,
  );
  for (const w of workers) w.server.close();
}

(async () => {
  if (PART !== 'cpu') await latencyPart();
  if (PART !== 'latency')
    await require('./balance-cpu').policyCpu({
      duration: DURATION,
      warmup: WARMUP,
      rounds: opt('rounds', 3),
      connections: opt('cpu-connections', 50),
      pin: !argv.includes('--no-pin'),
    });
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
