#!/usr/bin/env node
'use strict';
/**
 * Webhook ingest benchmark: ack latency of `webhook-ingest` (durable SQLite enqueue before the
 * 200, delivery running beside it) next to the same route answered by `respond` (no store), at
 * fixed offered rates, open loop: requests are sent on a schedule whatever the answers do, and
 * each latency is measured from when the request was due (so a stall is not hidden by a sender
 * that waited: no coordinated omission). See bench/README.md.
 *
 *   npx tsc -p . && node bench/webhook.js [--duration S] [--rates 1000,3000] [--durability strict|relaxed] [--max]
 *
 *   --duration S    measured seconds per rate (default 5; 1 s of warm-up before the first)
 *   --rates L       the fixed rates to report p50/p99 at (default 1000,3000)
 *   --cpu-prof DIR  write gatehouse's CPU profile to DIR (read it with bench/cpuprofile-summary.js)
 *   --no-delivery   deliver nothing while measuring (the circuit stays open): the ingest path alone
 *   --max           also search the highest rate held with p99 < 50 ms and no errors (steps of 500/s)
 *
 * Process layout: gatehouse (bin/gatehouse.js start) and the delivery backend each run in a child
 * process; the load generator runs here. On 2 cores they share the machine with it.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { ROOT, requireBuild, opt, flag, child, pct } = require('./lib');

requireBuild();
const DURATION = Number(opt('duration', 5));
const RATES = String(opt('rates', '1000,3000')).split(',').map(Number);
const DURABILITY = opt('durability', 'strict');
const MAX = flag('max');
const NO_DELIVERY = flag('no-delivery');
const MAX_RATE = 40000;

const BACKEND = `require('http').createServer((q,s)=>{q.resume();q.on('end',()=>s.end('ok'))}).listen(0,'127.0.0.1',function(){console.log('PORT '+this.address().port)})`;

/** Send at `rate`/s for `seconds` to `path`; resolves with latency percentiles (ms) and error count. */
function load(port, urlPath, rate, seconds, body) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const lat = [];
  let errors = 0;
  let sent = 0;
  const total = Math.round(rate * seconds);
  const start = process.hrtime.bigint();
  const headers = { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body('')) };
  return new Promise((resolve) => {
    let done = 0;
    const finish = () => {
      if (++done < total) return;
      agent.destroy();
      lat.sort((a, b) => a - b);
      resolve({ rate, sent, errors, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1] });
    };
    const tick = () => {
      const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      const due = Math.min(total, Math.floor(elapsed * rate));
      while (sent < due) {
        const n = sent++;
        const dueAt = start + BigInt(Math.round((n / rate) * 1e9));
        const b = body(String(n));
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: urlPath,
            method: 'POST',
            agent,
            headers: { ...headers, 'content-length': Buffer.byteLength(b) },
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode !== 200) errors++;
              lat.push(Number(process.hrtime.bigint() - dueAt) / 1e6);
              finish();
            });
          },
        );
        req.on('error', () => {
          errors++;
          finish();
        });
        req.end(b);
      }
      if (sent < total) setTimeout(tick, 1); // not setImmediate: a spinning sender would starve gatehouse of the CPU it shares
    };
    tick();
  });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-webhook-'));
  const be = await child(['-e', BACKEND]);
  const cfg = path.join(dir, 'gatehouse.yaml');
  fs.writeFileSync(
    cfg,
    [
      'server: { http: { port: 0, host: 127.0.0.1 } }',
      'log: { level: info, accessLog: false }',
      `store: { url: "sqlite:${path.join(dir, 'gatehouse.db')}", durability: ${DURABILITY} }`,
      `upstreams: { be: { targets: ["http://127.0.0.1:${be.port}"] } }`,
      'routes:',
      '  - match: { pathExact: /hook }',
      '    plugins:',
      NO_DELIVERY
        ? // A destination that refuses the first attempt, then a circuit open for the whole run: only ingest is measured.
          '      - webhook-ingest: { preset: none, dedupe: { key: "form:n" }, deliver: { url: "http://127.0.0.1:9" }, circuit: { failures: 1, openMs: 3600000 } }'
        : '      - webhook-ingest: { preset: none, dedupe: { key: "form:n" }, deliver: { upstream: be, concurrency: 16 } }',
      '  - match: { pathExact: /respond }',
      '    plugins:',
      '      - respond: { status: 200, body: OK }',
      '',
    ].join('\n'),
  );
  const prof = opt('cpu-prof', '');
  const gh = await child(
    [...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []), path.join(ROOT, 'bin', 'gatehouse.js'), 'start', '-c', cfg],
    { GATEHOUSE_ADMIN_TOKEN: '' },
  );
  let seq = 0;
  const body = (n) => `n=${process.pid}-${seq++}-${n}&imei=300434062099430&data=48656c6c6f`;
  console.log(`webhook-ingest (SQLite, durability ${DURABILITY}) vs respond; ${os.cpus().length} CPUs; open loop, ${DURATION} s per rate`);
  await load(gh.port, '/hook', 500, 1, body); // warm-up
  await load(gh.port, '/respond', 500, 1, body);
  const row = (label, r) =>
    console.log(
      `${label.padEnd(16)} ${String(r.rate).padStart(6)}/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(8)} ms  max ${r.max.toFixed(1).padStart(8)} ms  errors ${r.errors}`,
    );
  for (const rate of RATES) {
    row('webhook-ingest', await load(gh.port, '/hook', rate, DURATION, body));
    row('respond', await load(gh.port, '/respond', rate, DURATION, body));
  }
  if (MAX) {
    const held = {};
    for (const [label, p] of [
      ['webhook-ingest', '/hook'],
      ['respond', '/respond'],
    ]) {
      held[label] = 0;
      // Up to 40,000/s: a cap the search reaches would hide respond's real ceiling, and with it the ratio.
      for (let rate = 1000; rate <= MAX_RATE; rate += 500) {
        const r = await load(gh.port, p, rate, DURATION, body);
        row(label, r);
        if (r.p99 >= 50 || r.errors > 0) break;
        held[label] = rate;
        await new Promise((res) => setTimeout(res, 1000)); // let the delivery backlog drain
      }
      console.log(`${label}: highest rate held with p99 < 50 ms: ${held[label]}/s${held[label] === MAX_RATE ? ' (the search cap)' : ''}`);
    }
    console.log(`ratio webhook-ingest / respond: ${(held['webhook-ingest'] / held.respond).toFixed(2)} (goal >= 0.5)`);
  }
  gh.proc.kill('SIGTERM');
  be.proc.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
