#!/usr/bin/env node
'use strict';
/**
 * Streaming benchmark for the hash-rewrite plugin (issue 4). See bench/README.md.
 *
 *   npx tsc -p . && node bench/stream.js [options]
 *
 *   --size-mib N      size of the generated file (default 1024, i.e. 1 GiB)
 *   --rounds N        downloads per target, interleaved direct/gatehouse (default 3)
 *   --duration S      seconds per autocannon run of the cached-lookup comparison (default 5)
 *   --connections N   autocannon connections (default 50)
 *   --no-verify       skip the sha256 check of one download through gatehouse
 *   --no-cannon       skip the cached-lookup comparison
 *   --no-upload       skip the upload comparison (the same size POSTed through each proxy)
 *   --json FILE       also write the measurements to FILE
 *   --no-pin          do not pin processes to CPUs with taskset
 *   --wait-idle S     before starting, wait up to S seconds for the machine to be idle (default 60)
 *   --node-flags F    extra node flags for the gatehouse process (e.g. "--max-semi-space-size=1")
 *   --gc-every MIB    gatehouse's server.tuning.gcEveryMiB (default: the config default, 8; 0: V8 alone)
 *
 * What runs where: a backend child process (the archive serving the file from disk with
 * Range support, and a metadata service), gatehouse as `bin/gatehouse.js start` in its own
 * child process, a ten-line Node pipe proxy (`bare`, the floor for any Node proxy) in another,
 * and the client (this process) discarding what it downloads. With taskset and 2+ CPUs the
 * client and the backend share CPU 0 and each proxy gets CPU 1 to itself (a proxy on its own
 * machine, as deployed); --no-pin lets the scheduler place everything.
 *
 *  1. Streaming: the file is downloaded directly from the archive, through the bare proxy and
 *     through gatehouse in stream mode (GET /files/sha256/<sum>), interleaved; throughput is
 *     reported as the ratio of median MiB/s. Gatehouse's peak RSS (VmHWM in /proc/<pid>/status, reset
 *     through /proc/<pid>/clear_refs after start-up) must stay flat. Goals: < 100 MiB, ≥ 0.8×.
 *  2. Uploads: the same number of bytes POSTed (one 1 MiB block written again and again) to a
 *     sink on the backend, directly, through the bare proxy and through a plain gatehouse route;
 *     MiB/s and each proxy's peak RSS while uploading.
 *  3. Cached lookups: autocannon on hash-rewrite in x-accel mode (a cached lookup answered
 *     by gatehouse itself, no archive) against the core `respond` plugin on the same gateway.
 *
 * The file lives in bench/.tmp/ (gitignored) and is reused while its size matches.
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const TMP = path.join(__dirname, '.tmp');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const MIB = 1024 * 1024;
const FILE_ID = 4242;

// ---------------------------------------------------------------------------------------------
// Child role: archive + metadata service.
if (opt('role') === 'backend') {
  const file = opt('file');
  const size = fs.statSync(file).size;
  const sum = opt('sum');
  let metadataCalls = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'POST' && url.pathname === '/sink') {
      let n = 0;
      req.on('data', (c) => {
        n += c.length;
      });
      return req.on('end', () => res.end(String(n)));
    }
    if (url.pathname === '/files') {
      metadataCalls++;
      const hit = url.searchParams.get('hashtype') === 'sha256' && url.searchParams.get('hashsum') === sum;
      const body = JSON.stringify(hit ? [{ _id: FILE_ID, name: 'bench-1g.bin', size }] : []);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      return res.end(body);
    }
    if (url.pathname !== `/${FILE_ID}`) return res.writeHead(404).end();
    let start = 0;
    let end = size - 1;
    let status = 200;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
    if (m) {
      start = Number(m[1]);
      if (m[2]) end = Math.min(Number(m[2]), size - 1);
      if (start > end) return res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      status = 206;
    }
    res.writeHead(status, {
      'content-type': 'application/octet-stream',
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
      ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file, { start, end, highWaterMark: 256 * 1024 }).pipe(res);
  });
  server.keepAliveTimeout = 65000;
  server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
  process.on('message', (msg) => {
    if (msg.type === 'calls') process.send({ type: 'calls', n: metadataCalls });
    if (msg.type === 'stop') {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    }
  });
  return;
}

// ---------------------------------------------------------------------------------------------
// Child role: the floor. A minimal Node proxy piping the upstream answer to the client.
if (opt('role') === 'bare') {
  const upstreamPort = Number(opt('upstream'));
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const upload = req.method === 'POST';
    const headers = upload ? { 'content-length': req.headers['content-length'] } : { range: req.headers.range || '' };
    const up = http.request(
      { host: '127.0.0.1', port: upstreamPort, path: upload ? '/sink' : `/${FILE_ID}`, method: req.method, headers, agent },
      (pr) => {
        res.writeHead(pr.statusCode, pr.headers);
        pr.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    if (upload) req.pipe(up);
    else up.end();
  });
  server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
  process.on('message', (msg) => msg.type === 'stop' && process.exit(0));
  return;
}

// ---------------------------------------------------------------------------------------------
const SIZE_MIB = Number(opt('size-mib', 1024));
const ROUNDS = Number(opt('rounds', 3));
const DURATION = Number(opt('duration', 5));
const CONNECTIONS = Number(opt('connections', 50));
const VERIFY = !argv.includes('--no-verify');
const CANNON = !argv.includes('--no-cannon');
const UPLOAD = !argv.includes('--no-upload');
const JSON_OUT = opt('json', undefined);
const WAIT_IDLE = Number(opt('wait-idle', 60));
const NODE_FLAGS = (opt('node-flags', '') || '').split(/\s+/).filter(Boolean);
const GC_EVERY = opt('gc-every', undefined);
const { CAN_PIN, pinner } = require('./cpu-pin');
const PIN = !argv.includes('--no-pin') && CAN_PIN;
const GOAL_RSS_MIB = 100;
const GOAL_RATIO = 0.8;

if (!fs.existsSync(path.join(ROOT, 'dist', 'app', 'cli.js'))) {
  console.error('Build first: npx tsc -p .  (dist/app/cli.js is missing)');
  process.exit(1);
}

/** Pin a process (all its threads) to a CPU list such as "0" or "1". */
const pin = pinner(PIN);

/** Share of one core used by everything on the machine over `ms` milliseconds. */
async function machineBusyPct(ms) {
  const busy = () => os.cpus().reduce((n, c) => n + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
  const b0 = busy();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  return (100 * (busy() - b0)) / (Date.now() - t0);
}

/** Wait (up to `seconds`) until the machine is quiet: other processes distort every number. */
async function waitIdle(seconds) {
  let busy = await machineBusyPct(1000);
  const deadline = Date.now() + seconds * 1000;
  if (busy >= 15 && seconds > 0) process.stdout.write(`machine busy (${busy.toFixed(0)}% of a core); waiting up to ${seconds}s`);
  while (busy >= 15 && Date.now() < deadline) {
    busy = await machineBusyPct(1000);
    process.stdout.write('.');
  }
  if (busy >= 15) console.log(`\nwarning: the machine is not idle (${busy.toFixed(0)}% of a core busy); numbers will be noisy`);
  else if (seconds > 0) console.log(` idle (${busy.toFixed(0)}%)`);
  return busy;
}

/** Write SIZE_MIB of pseudo-random data quickly: one random 16 MiB block, each copy stamped with its index. */
function ensureFile() {
  fs.mkdirSync(TMP, { recursive: true });
  const file = path.join(TMP, `stream-${SIZE_MIB}m.bin`);
  const sumFile = `${file}.sha256`;
  const bytes = SIZE_MIB * MIB;
  if (fs.existsSync(file) && fs.statSync(file).size === bytes && fs.existsSync(sumFile)) {
    return { file, bytes, sum: fs.readFileSync(sumFile, 'utf8').trim(), generated: false };
  }
  const t0 = Date.now();
  const block = crypto.randomBytes(16 * MIB);
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'w');
  for (let written = 0, i = 0; written < bytes; i++) {
    block.writeUInt32BE(i, 0);
    const chunk = block.subarray(0, Math.min(block.length, bytes - written));
    fs.writeSync(fd, chunk);
    hash.update(chunk);
    written += chunk.length;
  }
  fs.closeSync(fd);
  const sum = hash.digest('hex');
  fs.writeFileSync(sumFile, `${sum}\n`);
  console.log(`generated ${file} (${SIZE_MIB} MiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { file, bytes, sum, generated: true };
}

function spawnRole(args) {
  const proc = spawn(process.execPath, [__filename, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`backend exited (${code})`)));
    proc.on('message', (m) => m.type === 'ready' && resolve(m.port));
  });
  const calls = () =>
    new Promise((resolve) => {
      proc.once('message', (m) => resolve(m.n));
      proc.send({ type: 'calls' });
    });
  return {
    proc,
    ready,
    calls,
    stop: () =>
      new Promise((r) => {
        proc.once('exit', r);
        proc.send({ type: 'stop' });
      }),
  };
}

/** `gatehouse start -c config.json` as an operator runs it; resolves with its port once listening. */
function spawnGatehouse(backendPort) {
  const config = {
    server: { http: { port: 0, host: '127.0.0.1' }, ...(GC_EVERY === undefined ? {} : { tuning: { gcEveryMiB: Number(GC_EVERY) } }) },
    log: { level: 'info', accessLog: false },
    upstreams: { archive: { targets: [`http://127.0.0.1:${backendPort}`] } },
    routes: [
      {
        name: 'stream',
        match: { path: '/files/' },
        plugins: [{ 'hash-rewrite': { metadata: `http://127.0.0.1:${backendPort}`, archive: 'archive' } }],
      },
      {
        name: 'accel',
        match: { path: '/accel/' },
        plugins: [{ 'hash-rewrite': { metadata: `http://127.0.0.1:${backendPort}`, mode: 'x-accel', path: '/accel/:hashtype/:hashsum' } }],
      },
      { name: 'respond', match: { pathExact: '/respond' }, plugins: [{ respond: { status: 200, body: '' } }] },
      { name: 'sink', match: { pathExact: '/sink' }, upstream: 'archive' },
    ],
  };
  const cfgFile = path.join(TMP, 'stream-bench.gatehouse.json');
  fs.writeFileSync(cfgFile, JSON.stringify(config, null, 2));
  const proc = spawn(process.execPath, [...NODE_FLAGS, path.join(ROOT, 'bin', 'gatehouse.js'), 'start', '-c', cfgFile], {
    cwd: TMP,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise((resolve, reject) => {
    let buf = '';
    proc.once('exit', (code) => reject(new Error(`gatehouse exited (${code})`)));
    proc.stdout.setEncoding('utf8').on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const j = JSON.parse(line);
          if (j.msg === 'gatehouse listening') resolve(j.addresses.http.port);
          else if (j.level >= 40) console.error(`gatehouse: ${line}`);
        } catch {
          /* not JSON */
        }
      }
    });
  });
  return {
    proc,
    ready,
    stop: () =>
      new Promise((r) => {
        proc.once('exit', r);
        proc.kill('SIGTERM');
      }),
  };
}

/** KiB values of /proc/<pid>/status. */
function procStatus(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number((new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text) || [])[1]);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

const CLK_TCK = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Reset the peak RSS counter (Linux >= 4.0; needs permission on the process, which we have on our child). */
function resetPeak(pid) {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Download a URL, discarding (or hashing) the body; resolves with bytes, seconds and status. */
function download(url, { hash = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    http
      .get(url, { agent: false }, (res) => {
        let bytes = 0;
        const h = hash ? crypto.createHash('sha256') : undefined;
        res.on('data', (c) => {
          bytes += c.length;
          if (h) h.update(c);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            bytes,
            seconds: Number(process.hrtime.bigint() - t0) / 1e9,
            sha256: h && h.digest('hex'),
            complete: res.complete,
          }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** POST `bytes` (one 1 MiB block written again and again); resolves with seconds and what the sink counted. */
function upload(url, bytes) {
  const block = Buffer.alloc(MIB, 0x5a);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-length': bytes } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode, received: Number(body), seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        const n = Math.min(MIB, bytes - sent);
        sent += n;
        if (!req.write(n === MIB ? block : block.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtMiB = (kib) => `${(kib / 1024).toFixed(1)} MiB`;

function cannon(url, seconds) {
  const autocannon = require('autocannon');
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}

async function main() {
  console.log(
    `stream benchmark: node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0] && os.cpus()[0].model}), ${SIZE_MIB} MiB file, ${ROUNDS} round(s)`,
  );
  console.log(
    PIN
      ? 'layout: client (this process) and backend pinned to CPU 0, the proxy under test to CPU 1'
      : `layout: unpinned${CAN_PIN ? ' (--no-pin)' : ' (taskset unavailable or < 2 CPUs)'}`,
  );
  if (NODE_FLAGS.length) console.log(`gatehouse node flags: ${NODE_FLAGS.join(' ')}`);
  if (GC_EVERY !== undefined) console.log(`gatehouse server.tuning.gcEveryMiB: ${GC_EVERY}`);
  const { file, bytes, sum, generated } = ensureFile();
  if (!generated) console.log(`reusing ${path.relative(ROOT, file)} (${SIZE_MIB} MiB)`);
  await waitIdle(WAIT_IDLE);
  pin(process.pid, '0');
  const backend = spawnRole(['--role', 'backend', '--file', file, '--sum', sum]);
  const backendPort = await backend.ready;
  pin(backend.proc.pid, '0');
  const bare = spawnRole(['--role', 'bare', '--upstream', String(backendPort)]);
  const barePort = await bare.ready;
  pin(bare.proc.pid, '1');
  const gh = spawnGatehouse(backendPort);
  const ghPort = await gh.ready;
  pin(gh.proc.pid, '1');
  const results = {
    sizeMiB: SIZE_MIB,
    pinned: PIN,
    nodeFlags: NODE_FLAGS,
    gcEveryMiB: GC_EVERY === undefined ? 8 : Number(GC_EVERY),
    direct: [],
    bare: [],
    gatehouse: [],
    cpuPerGiB: { bare: [], gatehouse: [] },
    rss: {},
    cannon: {},
  };
  try {
    const targets = [
      ['direct', `http://127.0.0.1:${backendPort}/${FILE_ID}`],
      ['bare', `http://127.0.0.1:${barePort}/${FILE_ID}`],
      ['gatehouse', `http://127.0.0.1:${ghPort}/files/sha256/${sum}`],
    ];
    const through = targets[2][1];
    // Warm up: the page cache (file), gatehouse's lookup cache and code paths.
    for (const [label, url] of targets) {
      const warm = await download(url);
      if (warm.status !== 200 || warm.bytes !== bytes)
        throw new Error(`warm-up ${label}: status ${warm.status}, ${warm.bytes} of ${bytes} bytes`);
    }
    const idle = procStatus(gh.proc.pid);
    const bareIdle = procStatus(bare.proc.pid);
    const reset = resetPeak(gh.proc.pid) && resetPeak(bare.proc.pid);
    results.rss.idleKiB = idle.rss;
    results.rss.peakSinceStartKiB = idle.hwm;
    console.log(
      `gatehouse pid ${gh.proc.pid}: RSS ${fmtMiB(idle.rss)} after one warm-up download (peak since start ${fmtMiB(idle.hwm)})${reset ? '; peak counters reset' : '; peak counters NOT reset (no clear_refs)'}`,
    );

    let sampledMax = 0;
    const sampler = setInterval(() => {
      sampledMax = Math.max(sampledMax, procStatus(gh.proc.pid).rss);
    }, 50);
    for (let i = 0; i < ROUNDS; i++) {
      // Rotate the order each round so that no target always runs first.
      for (let k = 0; k < targets.length; k++) {
        const [label, url] = targets[(i + k) % targets.length];
        const proxyPid = label === 'gatehouse' ? gh.proc.pid : label === 'bare' ? bare.proc.pid : undefined;
        const cpu0 = proxyPid && cpuSeconds(proxyPid);
        const r = await download(url);
        if (r.status !== 200 || r.bytes !== bytes || !r.complete)
          throw new Error(`${label}: status ${r.status}, ${r.bytes} of ${bytes} bytes`);
        const mibs = bytes / MIB / r.seconds;
        results[label].push(mibs);
        let cpuNote = '';
        if (proxyPid) {
          const perGiB = (cpuSeconds(proxyPid) - cpu0) / (bytes / (1024 * MIB));
          results.cpuPerGiB[label].push(perGiB);
          cpuNote = `  proxy CPU ${perGiB.toFixed(2)} s/GiB`;
        }
        console.log(`  round ${i + 1} ${label.padEnd(9)} ${r.seconds.toFixed(2)} s  ${mibs.toFixed(0)} MiB/s${cpuNote}`);
      }
    }
    if (VERIFY) {
      const v = await download(through, { hash: true });
      results.verified = v.sha256 === sum;
      console.log(`  sha256 through gatehouse: ${results.verified ? 'matches' : `MISMATCH (${v.sha256})`}`);
    }
    clearInterval(sampler);
    const after = procStatus(gh.proc.pid);
    results.rss.peakKiB = reset ? after.hwm : Math.max(sampledMax, after.rss);
    results.rss.sampledMaxKiB = sampledMax;
    results.rss.barePeakKiB = reset ? procStatus(bare.proc.pid).hwm : undefined;
    results.rss.bareIdleKiB = bareIdle.rss;
    results.metadataCalls = await backend.calls();
    const d = median(results.direct);
    const b = median(results.bare);
    const g = median(results.gatehouse);
    results.ratio = g / d;
    results.bareRatio = b / d;
    const peakMiB = results.rss.peakKiB / 1024;
    console.log('\nstreaming');
    console.log(`  direct from the archive   median ${d.toFixed(0)} MiB/s`);
    console.log(`  bare Node pipe proxy      median ${b.toFixed(0)} MiB/s   ratio ${results.bareRatio.toFixed(2)}x`);
    console.log(
      `  gatehouse stream mode     median ${g.toFixed(0)} MiB/s   ratio ${results.ratio.toFixed(2)}x (${(g / b).toFixed(2)}x bare)  (goal >= ${GOAL_RATIO}x direct: ${results.ratio >= GOAL_RATIO ? 'met' : 'NOT met'})`,
    );
    const cb = median(results.cpuPerGiB.bare);
    const cg = median(results.cpuPerGiB.gatehouse);
    console.log(
      `  proxy CPU per GiB (load-independent): bare ${cb.toFixed(2)} s, gatehouse ${cg.toFixed(2)} s (${(cg / cb).toFixed(2)}x bare)`,
    );
    console.log(
      `  gatehouse peak RSS while streaming ${peakMiB.toFixed(1)} MiB (${fmtMiB(idle.rss)} before; sampled max ${fmtMiB(sampledMax)})  (goal < ${GOAL_RSS_MIB} MiB: ${peakMiB < GOAL_RSS_MIB ? 'met' : 'NOT met'})`,
    );
    if (results.rss.barePeakKiB) console.log(`  bare proxy peak RSS ${fmtMiB(results.rss.barePeakKiB)} (${fmtMiB(bareIdle.rss)} before)`);
    console.log(
      `  metadata calls: ${results.metadataCalls} for ${ROUNDS + 1 + (VERIFY ? 1 : 0)} downloads through gatehouse (the lookup is cached)`,
    );

    if (UPLOAD) await uploads(results, bytes, { backendPort, barePort, ghPort, gh, bare });

    if (CANNON) {
      const accel = `http://127.0.0.1:${ghPort}/accel/sha256/${sum}`;
      const respond = `http://127.0.0.1:${ghPort}/respond`;
      await cannon(accel, 1);
      await cannon(respond, 1);
      const runs = { accel: [], respond: [] };
      for (let i = 0; i < 2; i++) {
        for (const [label, url] of i % 2
          ? [
              ['respond', respond],
              ['accel', accel],
            ]
          : [
              ['accel', accel],
              ['respond', respond],
            ]) {
          const r = await cannon(url, DURATION);
          if (r.non2xx || r.errors) throw new Error(`${label}: ${r.non2xx} non-2xx, ${r.errors} errors`);
          runs[label].push(r.requests.average);
          console.log(
            `  cached lookup run ${i + 1} ${label.padEnd(7)} ${r.requests.average.toFixed(0)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms`,
          );
        }
      }
      results.cannon = { accelRps: median(runs.accel), respondRps: median(runs.respond) };
      results.cannon.ratio = results.cannon.accelRps / results.cannon.respondRps;
      console.log('\ncached lookup path (hash-rewrite x-accel answer from the cache) vs core respond');
      console.log(`  respond        ${results.cannon.respondRps.toFixed(0)} req/s`);
      console.log(
        `  hash-rewrite   ${results.cannon.accelRps.toFixed(0)} req/s   ratio ${results.cannon.ratio.toFixed(2)}x  (${CONNECTIONS} connections, ${DURATION}s runs)`,
      );
    }
  } finally {
    await gh.stop();
    await bare.stop();
    await backend.stop();
  }
  if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify(results, null, 2));
}

/** Phase 2: the same bytes POSTed directly, through bare and through gatehouse; MiB/s and peak RSS. */
async function uploads(results, bytes, { backendPort, barePort, ghPort, gh, bare }) {
  const targets = [
    ['direct', backendPort],
    ['bare', barePort],
    ['gatehouse', ghPort],
  ].map(([label, port]) => [label, `http://127.0.0.1:${port}/sink`]);
  const reset = resetPeak(gh.proc.pid) && resetPeak(bare.proc.pid);
  const before = { gatehouse: procStatus(gh.proc.pid).rss, bare: procStatus(bare.proc.pid).rss };
  const runs = { direct: [], bare: [], gatehouse: [] };
  console.log(`\nuploads (${fmtMiB(bytes / 1024)} each)${reset ? '' : '; peak counters NOT reset, peaks below include streaming'}`);
  for (let i = 0; i < ROUNDS; i++) {
    for (let k = 0; k < targets.length; k++) {
      const [label, url] = targets[(i + k) % targets.length];
      const r = await upload(url, bytes);
      if (r.status !== 200 || r.received !== bytes)
        throw new Error(`upload ${label}: status ${r.status}, ${r.received} of ${bytes} bytes arrived`);
      runs[label].push(bytes / MIB / r.seconds);
      console.log(`  round ${i + 1} ${label.padEnd(9)} ${r.seconds.toFixed(2)} s  ${(bytes / MIB / r.seconds).toFixed(0)} MiB/s`);
    }
  }
  const d = median(runs.direct);
  results.upload = {
    direct: median(runs.direct),
    bare: median(runs.bare),
    gatehouse: median(runs.gatehouse),
    ghPeakKiB: procStatus(gh.proc.pid).hwm,
    barePeakKiB: procStatus(bare.proc.pid).hwm,
  };
  console.log(`  direct to the sink        median ${d.toFixed(0)} MiB/s`);
  console.log(
    `  bare Node pipe proxy      median ${results.upload.bare.toFixed(0)} MiB/s   ratio ${(results.upload.bare / d).toFixed(2)}x   peak RSS ${fmtMiB(results.upload.barePeakKiB)} (${fmtMiB(before.bare)} before)`,
  );
  console.log(
    `  gatehouse plain route     median ${results.upload.gatehouse.toFixed(0)} MiB/s   ratio ${(results.upload.gatehouse / d).toFixed(2)}x   peak RSS ${fmtMiB(results.upload.ghPeakKiB)} (${fmtMiB(before.gatehouse)} before)`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
