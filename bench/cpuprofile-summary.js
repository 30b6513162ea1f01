#!/usr/bin/env node
'use strict';
/**
 * Summarise V8 .cpuprofile files written by `node bench/passthrough.js --cpu-prof DIR`.
 *
 *   node bench/cpuprofile-summary.js DIR/CPU.*.cpuprofile [--top N]
 *
 * One file: self time by area (gatehouse core, http-proxy, prom-client, Node internals, GC...)
 * and the top functions. Two files (e.g. bare http-proxy, then gatehouse): the same per
 * request for each (passthrough-target.js writes DIR/requests-<pid>.json next to each
 * profile), and the difference B - A per request: where the extra CPU of B goes.
 */
const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const TOP = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
const files = args;
if (!files.length || files.length > 2) {
  console.error('usage: node bench/cpuprofile-summary.js A.cpuprofile [B.cpuprofile] [--top N]');
  process.exit(2);
}

function area(cf) {
  const url = cf.url || '';
  const fn = cf.functionName;
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'program (native, outside JS)';
  if (url.includes('/node_modules/http-proxy/') || url.includes('/node_modules/eventemitter3/')) return 'http-proxy (+ eventemitter3)';
  if (url.includes('/node_modules/prom-client/')) return 'prom-client';
  if (url.includes('/node_modules/pino') || url.includes('/node_modules/sonic-boom/')) return 'pino';
  if (url.includes('/node_modules/')) return `other deps (${url.split('/node_modules/').pop().split('/')[0]})`;
  if (url.includes('/dist/core/')) return 'gatehouse core (dist/core)';
  if (url.includes('/dist/plugins/')) return 'gatehouse plugins';
  if (url.includes('/bench/')) return 'bench (no-op plugins, target script)';
  if (url.startsWith('node:') || url === '') return 'Node internals (http, net, streams, events, timers, native)';
  return `other (${path.basename(url)})`;
}

const label = (cf) =>
  `${cf.functionName || '(anonymous)'} ${cf.url ? `${cf.url.replace(/^.*\/(node_modules|dist|bench)\//, '$1/').replace(/^file:\/\//, '')}:${cf.lineNumber + 1}` : ''}`.trim();

function load(file) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const areas = new Map();
  const self = new Map();
  const incl = new Map();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] || 0;
    total += dt;
    const cf = byId.get(prof.samples[i]).callFrame;
    const a = area(cf);
    areas.set(a, (areas.get(a) || 0) + dt);
    const k = label(cf);
    self.set(k, (self.get(k) || 0) + dt);
    const seen = new Set();
    for (let id = prof.samples[i]; id !== undefined; id = parent.get(id)) {
      const l = label(byId.get(id).callFrame);
      if (!seen.has(l)) {
        seen.add(l);
        incl.set(l, (incl.get(l) || 0) + dt);
      }
    }
  }
  const busy = total - (areas.get('idle') || 0);
  areas.delete('idle');
  self.delete('(idle)');
  const pid = (path.basename(file).match(/^CPU\.\d+\.\d+\.(\d+)\./) || [])[1];
  const side = pid && path.join(path.dirname(file), `requests-${pid}.json`);
  const meta = side && fs.existsSync(side) ? JSON.parse(fs.readFileSync(side, 'utf8')) : undefined;
  return { file, busy, areas, self, incl, meta, requests: meta ? meta.requests : undefined };
}

const profiles = files.map(load);
const sorted = (m) => [...m].sort((x, y) => y[1] - x[1]);

for (const p of profiles) {
  const per = p.requests ? (us) => `${(us / p.requests).toFixed(2).padStart(7)} µs/req` : () => '';
  const pct = (us) => `${((100 * us) / p.busy).toFixed(1).padStart(5)}%`;
  const who = p.meta ? `${p.meta.role}${p.meta.variant ? ` (${p.meta.variant})` : ''}, ${p.requests} requests` : 'unknown process';
  console.log(
    `\n== ${path.basename(p.file)}: ${who}; ${(p.busy / 1e6).toFixed(2)} s busy${p.requests ? `, ${(p.busy / p.requests).toFixed(1)} µs CPU per request` : ''}`,
  );
  console.log('self time by area');
  for (const [a, us] of sorted(p.areas)) if (us / p.busy >= 0.001) console.log(`  ${pct(us)} ${per(us)}  ${a}`);
  console.log(`top ${TOP} functions by self time`);
  for (const [k, us] of sorted(p.self).slice(0, TOP)) console.log(`  ${pct(us)} ${per(us)}  ${k}`);
  console.log(`top ${TOP} JS functions by inclusive time (dist/, node_modules/, bench/)`);
  for (const [k, us] of sorted(p.incl)
    .filter(([k]) => /dist\/|node_modules\/|bench\//.test(k))
    .slice(0, TOP))
    console.log(`  ${pct(us)} ${per(us)}  ${k}`);
}

if (profiles.length === 2) {
  const [a, b] = profiles;
  if (!a.requests || !b.requests) {
    console.log('\n(no request counts next to the profiles: cannot compare per request)');
    process.exit(0);
  }
  const diff = (ma, mb) => {
    const keys = new Set([...ma.keys(), ...mb.keys()]);
    return [...keys]
      .map((k) => [k, (mb.get(k) || 0) / b.requests - (ma.get(k) || 0) / a.requests])
      .sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]));
  };
  const f = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`.padStart(8);
  console.log(
    `\n== per request: B (${b.meta.role}) - A (${a.meta.role}) = ${f(b.busy / b.requests - a.busy / a.requests)} µs CPU per request (${(b.busy / b.requests).toFixed(1)} vs ${(a.busy / a.requests).toFixed(1)})`,
  );
  console.log('by area (µs/req)');
  for (const [k, d] of diff(a.areas, b.areas)) if (Math.abs(d) >= 0.05) console.log(`  ${f(d)}  ${k}`);
  console.log(`largest self-time differences (µs/req), top ${TOP}`);
  for (const [k, d] of diff(a.self, b.self).slice(0, TOP)) console.log(`  ${f(d)}  ${k}`);
}
