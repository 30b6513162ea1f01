'use strict';
/**
 * The CPU cost of each balancing policy on the passthrough path, against round-robin (the
 * second part of bench/balance.js; see bench/README.md, "Balancing").
 *
 * One gatehouse process holds one upstream per policy, each with the same four targets: one
 * backend (bench/passthrough-target.js) under four base paths, so four targets with four agents
 * and one backend process, the same for every policy. One route per policy (pathExact). The
 * policies are measured in turn, in an order rotated each round, under the same load (autocannon,
 * the same connections and duration), and each run's gateway CPU time per response (from
 * process.cpuUsage() of the gateway process, read over IPC before and after) is divided by
 * round-robin's of the same round: a ratio of CPU per request moves less with a loaded machine
 * than one of req/s. With taskset, the gateway has CPU 1 to itself and the load generator and
 * the backend share CPU 0, as in bench/passthrough.js.
 */
const { fork } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const DIST = path.join(__dirname, '..', 'dist', 'core', 'index.js');
const POLICIES = ['round-robin', 'least-request', 'p2c-ewma', 'ring-hash', 'random'];
const TARGETS = 4;

if (process.argv[2] === '--gateway') {
  // The gateway's process: ready with its port, then its CPU usage on request.
  const { createGateway } = require(DIST);
  const pino = require('pino');
  const config = JSON.parse(process.argv[3]);
  createGateway({ config, logger: pino({ level: 'silent' }) })
    .then((gw) => gw.listen())
    .then((gw) => process.send({ type: 'ready', port: gw.addresses.http.port }));
  process.on('message', (m) => {
    if (m.type === 'cpu') process.send({ type: 'cpu', usage: process.cpuUsage() });
  });
  process.on('disconnect', () => process.exit(0));
  return;
}

const autocannon = require('autocannon');
const { CAN_PIN, pinner } = require('./cpu-pin');

/** A child process that says { type: 'ready', port } and answers { type: 'cpu' } with its process.cpuUsage(). */
function child(script, args) {
  const proc = fork(script, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ready = new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${path.basename(script)} ${args[0]} exited early (code ${code})`)));
    proc.on('message', (m) => m.type === 'ready' && resolve(m.port));
  });
  const cpu = () =>
    new Promise((resolve) => {
      const on = (m) => {
        if (m.type !== 'cpu') return;
        proc.off('message', on);
        resolve(m.usage.user + m.usage.system);
      };
      proc.on('message', on);
      proc.send({ type: 'cpu' });
    });
  return { proc, ready, cpu };
}

/** Busy CPU time of the whole machine so far, in µs. */
function machineBusyUs() {
  let ms = 0;
  for (const c of os.cpus()) ms += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return ms * 1000;
}

function cannon(url, connections, seconds) {
  return new Promise((resolve, reject) =>
    autocannon({ url, connections, duration: seconds, pipelining: 1 }, (err, r) => (err ? reject(err) : resolve(r))),
  );
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const range = (xs, d) => (xs.length ? `${median(xs).toFixed(d)} [${Math.min(...xs).toFixed(d)} .. ${Math.max(...xs).toFixed(d)}]` : '-');

/**
 * Measure every policy `rounds` times and print the table.
 * @param o { duration, warmup, rounds, connections, pin }
 */
async function policyCpu(o) {
  const pin = pinner(o.pin && CAN_PIN);
  const backend = child(path.join(__dirname, 'passthrough-target.js'), ['backend']);
  const gateway = { proc: undefined };
  try {
    const backendPort = await backend.ready;
    const targets = Array.from({ length: TARGETS }, (_, i) => `http://127.0.0.1:${backendPort}/t${i}`);
    const config = {
      server: { http: { port: 0, host: '127.0.0.1' } },
      log: { level: 'silent', accessLog: false },
      upstreams: Object.fromEntries(POLICIES.map((p) => [p, { targets, balance: p }])),
      routes: POLICIES.map((p) => ({ match: { pathExact: `/${p}` }, upstream: p })),
    };
    const gw = child(__filename, ['--gateway', JSON.stringify(config)]);
    gateway.proc = gw.proc;
    const port = await gw.ready;
    pin(process.pid, '0');
    pin(backend.proc.pid, '0');
    pin(gw.proc.pid, '1');
    console.log(
      `policy CPU cost: ${POLICIES.length} upstreams of the same ${TARGETS} targets (one backend, ${TARGETS} base paths) in one gatehouse process, ${o.connections} connections, ${o.warmup}s warm-up + ${o.duration}s per policy, ${o.rounds} round(s), ${o.pin && CAN_PIN ? 'gateway pinned to CPU 1' : 'unpinned'}`,
    );
    // One warm-up per policy before the first round: JIT compilation is not a policy's cost.
    for (const p of POLICIES) await cannon(`http://127.0.0.1:${port}/${p}`, o.connections, Math.max(o.warmup, 0.2));
    const runs = [];
    for (let round = 0; round < o.rounds; round++) {
      const order = POLICIES.map((_, i) => POLICIES[(i + round) % POLICIES.length]);
      for (const p of order) {
        const url = `http://127.0.0.1:${port}/${p}`;
        if (o.warmup > 0) await cannon(url, o.connections, o.warmup);
        const cpu0 = await gw.cpu();
        const busy0 = machineBusyUs();
        const ours0 = process.cpuUsage();
        const backend0 = await backend.cpu();
        const t0 = process.hrtime.bigint();
        const r = await cannon(url, o.connections, o.duration);
        const wallUs = Number(process.hrtime.bigint() - t0) / 1e3;
        const gwUs = (await gw.cpu()) - cpu0;
        const backendUs = (await backend.cpu()) - backend0;
        const ours = process.cpuUsage(ours0);
        const foreign = Math.max(0, (100 * (machineBusyUs() - busy0 - gwUs - backendUs - ours.user - ours.system)) / wallUs);
        const ok = r.requests.total - r.non2xx;
        runs.push({ round, policy: p, rps: ok / (wallUs / 1e6), usPerReq: gwUs / ok, failures: r.errors + r.non2xx + r.timeouts, foreign });
      }
    }
    const rrOf = (round) => runs.find((x) => x.round === round && x.policy === 'round-robin');
    console.log('| policy | req/s | gateway µs/req | µs/req ÷ round-robin | req/s ÷ round-robin | max foreign CPU% |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const p of POLICIES) {
      const mine = runs.filter((x) => x.policy === p);
      const cpuRatio = mine.map((x) => x.usPerReq / rrOf(x.round).usPerReq);
      const rpsRatio = mine.map((x) => x.rps / rrOf(x.round).rps);
      const failures = mine.reduce((a, x) => a + x.failures, 0);
      console.log(
        `| ${p} | ${median(mine.map((x) => x.rps)).toFixed(0)} | ${median(mine.map((x) => x.usPerReq)).toFixed(1)} | ${range(cpuRatio, 3)} | ${range(rpsRatio, 3)} | ${Math.max(...mine.map((x) => x.foreign)).toFixed(0)} |${failures ? ` ${failures} FAILURES` : ''}`,
      );
    }
    const worst = Math.max(
      ...POLICIES.slice(1).map((p) => median(runs.filter((x) => x.policy === p).map((x) => x.usPerReq / rrOf(x.round).usPerReq))),
    );
    console.log(
      `goal: every policy's CPU per request <= 1.03 x round-robin's: ${worst <= 1.03 ? 'met' : 'not met'} (worst ${worst.toFixed(3)})`,
    );
    return runs;
  } finally {
    gateway.proc?.kill();
    backend.proc.send({ type: 'stop' });
  }
}

module.exports = { policyCpu };
