#!/usr/bin/env node
'use strict';
/**
 * Durable enqueue benchmark for the state store (core/store). See bench/README.md.
 *
 *   npx tsc -p . && node bench/store.js [options]
 *
 *   --seconds S       measured seconds per closed-loop run (default 2)
 *   --rate-seconds S  seconds of the open-loop run at 1,000 enqueues/s offered (default 3)
 *   --rate R          enqueues/s offered in the open-loop run (default 1000)
 *   --redis-module F  the RedisStore module to load (default dist/core/store/redis/index.js;
 *                     the Redis rows are skipped when it does not exist)
 *   --no-redis        skip Redis even when it is built
 *   --json FILE       also write the raw results to FILE
 *
 * Rows, each at concurrency 1, 16 and 128 (closed loop: each of C callers enqueues again as soon
 * as its last enqueue resolved):
 *   - sqlite strict: SqliteStore, durability strict (WAL, synchronous=FULL, group commit in its
 *     worker thread)
 *   - baseline: plain better-sqlite3 on this thread, WAL, synchronous=FULL, one transaction
 *     (one fsync) per enqueue; concurrency only queues callers, since each call blocks
 *   - disk fdatasync: 1,000 fdatasyncs of a 4 KiB write, before and after the SQLite rows: the
 *     disk's flush latency, which every durable enqueue waits for at least once
 *   - redis strict: RedisStore on a redis-server started here with appendonly yes, appendfsync
 *     always (when the Redis backend is built)
 * and an open-loop run at --rate enqueues/s offered (latency counted from when each enqueue was
 * due, so a stall shows as latency of everything behind it). Event-loop delay of this process
 * (perf_hooks.monitorEventLoopDelay) is reported per run: what the proxy's requests would wait.
 * Files live in a temp dir on the same disk as os.tmpdir(), removed at the end.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');

const ROOT = path.join(__dirname, '..');
const SQLITE = path.join(ROOT, 'dist', 'core', 'store', 'sqlite', 'index.js');
if (!fs.existsSync(SQLITE)) {
  console.error('Build first: npx tsc -p .  (dist/core/store/sqlite/index.js is missing)');
  process.exit(1);
}
const { SqliteStore } = require(SQLITE);
const Database = require('better-sqlite3');

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const SECONDS = Number(opt('seconds', 2));
const RATE_SECONDS = Number(opt('rate-seconds', 3));
const RATE = Number(opt('rate', 1000));
const REDIS_MODULE = path.resolve(opt('redis-module', path.join(ROOT, 'dist', 'core', 'store', 'redis', 'index.js')));
const WITH_REDIS = !argv.includes('--no-redis') && fs.existsSync(REDIS_MODULE);
const JSON_OUT = opt('json', undefined);
const CONCURRENCY = [1, 16, 128];
const PAYLOAD = { event: 'order.created', id: 0, customer: 'c-12345', total: 99.5, items: [{ sku: 'A-1', qty: 2 }], note: 'x'.repeat(80) };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-bench-store-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

/**
 * The event-loop delay histogram's p99 and max in ms. It samples with a 1 ms timer, so a loop
 * that hardly turned during the run (every call blocking, as the baseline's do) has almost no
 * samples, and their percentiles mean nothing: reported as null ("blocked") when the timer ran
 * fewer than once per 20 ms of the run.
 */
function loopDelay(eld, ms) {
  if (eld.count < ms / 20) return { eldP99: null, eldMax: null, eldSamples: eld.count };
  return { eldP99: eld.percentile(99) / 1e6, eldMax: eld.max / 1e6, eldSamples: eld.count };
}

/** Closed loop: `c` callers, each calling `op()` again once the last resolved, for `seconds`. */
async function closedLoop(op, c, seconds) {
  const lat = [];
  const eld = monitorEventLoopDelay({ resolution: 1 });
  const end = performance.now() + seconds * 1000;
  let n = 0;
  eld.enable();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await op(n++);
        lat.push(performance.now() - t0);
      }
    }),
  );
  const ms = performance.now() - start;
  eld.disable();
  return summary(lat, eld, ms);
}

/** Open loop: one `op()` due every 1000/rate ms whatever the others do; latency from when it was due. */
async function openLoop(op, rate, seconds) {
  const lat = [];
  const eld = monitorEventLoopDelay({ resolution: 1 });
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const inflight = [];
  eld.enable();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    // Never before it is due: sleeping only when over 1 ms early sent ops up to 1 ms early,
    // and latency counted from the due time came out negative.
    if (wait > 0) await sleep(wait);
    inflight.push(op(i).then(() => lat.push(performance.now() - due)));
  }
  await Promise.all(inflight);
  eld.disable();
  return summary(lat, eld, performance.now() - start);
}

/** Rate, p50 and p99 of the latencies `lat` (sorted here), and the event-loop delay, of a run of `ms`. */
function summary(lat, eld, ms) {
  lat.sort((a, b) => a - b);
  return { ops: lat.length, perSec: (lat.length / ms) * 1000, p50: pct(lat, 50), p99: pct(lat, 99), ...loopDelay(eld, ms) };
}

function baselineDb() {
  const db = new Database(path.join(tmp, 'baseline.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE items (seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT, id TEXT, payload TEXT, enqueued_at INTEGER, UNIQUE (queue, id))',
  );
  const insert = db.prepare('INSERT INTO items (queue, id, payload, enqueued_at) VALUES (?, ?, ?, ?)');
  let k = 0;
  // One implicit transaction, so one commit and one fsync, per enqueue.
  return { op: async () => insert.run('bench', `b${k++}`, JSON.stringify({ ...PAYLOAD, id: k }), Date.now()), close: () => db.close() };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function startRedis() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(tmp, 'redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--dir',
    dir,
    '--save',
    '',
  ];
  const child = spawn('/usr/bin/redis-server', args, { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((r) =>
      net
        .connect(port, '127.0.0.1')
        .once('connect', function () {
          this.destroy();
          r(true);
        })
        .once('error', () => r(false)),
    );
    if (up) return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

const rows = [];
function report(name, mode, r) {
  rows.push({ name, mode, ...r });
  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  console.log(
    `${name.padEnd(14)} ${mode.padEnd(12)} ${String(r.ops).padStart(7)} ops ${Math.round(r.perSec).toLocaleString('en').padStart(8)}/s  p50 ${f(r.p50).padStart(7)} ms  p99 ${f(r.p99).padStart(7)} ms  ${r.max !== undefined ? `max ${f(r.max)} ms` : r.eldP99 === null ? `loop delay: blocked (a 1 ms timer ran ${r.eldSamples} times)` : `loop delay p99 ${f(r.eldP99)} ms, max ${f(r.eldMax)} ms`}`,
  );
}

/**
 * The disk's own commit latency: `n` fdatasyncs of a 4 KiB write in the bench's directory, one
 * after the other. A durable enqueue waits for at least one such flush (group commit: up to two,
 * when it arrives during another batch's), so this row is the floor of the store rows' latency.
 */
function diskRow(label, n = 1000) {
  const file = path.join(tmp, 'fsync-probe');
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(4096, 120);
  const lat = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    fs.writeSync(fd, block, 0, block.length, (i % 64) * 4096);
    const t = performance.now();
    fs.fdatasyncSync(fd);
    lat.push(performance.now() - t);
  }
  const seconds = (performance.now() - t0) / 1000;
  fs.closeSync(fd);
  fs.rmSync(file);
  lat.sort((a, b) => a - b);
  report('disk fdatasync', label, {
    ops: n,
    perSec: n / seconds,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    eldP99: null,
    eldSamples: 0,
    max: lat[lat.length - 1],
  });
}

async function storeRows(name, store) {
  let k = 0;
  const op = () => store.queue.enqueue('bench', { ...PAYLOAD, id: k }, { id: `${name}-${k++}` });
  await closedLoop(op, 16, 0.3); // warm-up: JIT, the file's first pages
  for (const c of CONCURRENCY) report(name, `c=${c}`, await closedLoop(op, c, SECONDS));
  report(name, `${RATE}/s open`, await openLoop(op, RATE, RATE_SECONDS));
}

(async () => {
  const started = Date.now();
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}, files in ${tmp}`,
  );
  diskRow('before');
  const sqlite = new SqliteStore({ path: path.join(tmp, 'store.db'), durability: 'strict' });
  await sqlite.open();
  await storeRows('sqlite strict', sqlite);
  await sqlite.close();
  diskRow('after');

  const base = baselineDb();
  await closedLoop(base.op, 1, 0.3);
  for (const c of CONCURRENCY) report('baseline', `c=${c}`, await closedLoop(base.op, c, SECONDS));
  report('baseline', `${RATE}/s open`, await openLoop(base.op, RATE, RATE_SECONDS));
  base.close();

  if (WITH_REDIS) {
    const redis = await startRedis();
    try {
      const { RedisStore } = require(REDIS_MODULE);
      const store = new RedisStore({ url: redis.url, durability: 'strict' });
      await store.open();
      await storeRows('redis strict', store);
      await store.close();
    } finally {
      redis.stop();
    }
  } else console.log(`(no Redis rows: ${REDIS_MODULE} is not built, or --no-redis)`);

  console.log(
    `done in ${((Date.now() - started) / 1000).toFixed(1)} s, load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify({ node: process.version, rows }, null, 2));
})()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => fs.rmSync(tmp, { recursive: true, force: true }));
