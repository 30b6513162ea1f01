#!/usr/bin/env node
'use strict';
/**
 * Benchmark of the region-routing prefix table against a linear scan with ip-cidr.
 *
 *   npx tsc -p . && node bench/region-table.js [prefixes] [lookups] [baselineLookups] [seed]
 *
 * Defaults: 100,000 random prefixes (half IPv4 /8-/32, half IPv6 /16-/64), 1,000,000 mixed
 * lookups, seed 42; the baseline stops after 200 lookups or 20 s, whichever comes first
 * (BASELINE_SECONDS=… changes the cap). Lookups are half IPv4 (a quarter of those written
 * as IPv4-mapped IPv6, as dual-stack sockets report them) and half IPv6; half of each family
 * falls inside a known prefix, half is uniformly random.
 */
const os = require('node:os');
const path = require('node:path');

let table;
try {
  table = require(path.join(__dirname, '..', 'dist', 'core', 'net', 'prefix-table.js'));
} catch (err) {
  console.error('Build first (npx tsc -p .): cannot load dist/core/net/prefix-table.js');
  console.error(String(err && err.message));
  process.exit(1);
}
const IPCIDR = require('ip-cidr').default || require('ip-cidr');

const PREFIXES = Number(process.argv[2] || 100_000);
const LOOKUPS = Number(process.argv[3] || 1_000_000);
const BASELINE_LOOKUPS = Number(process.argv[4] || 200);
const SEED = Number(process.argv[5] || 42);
const BASELINE_SECONDS = Number(process.env.BASELINE_SECONDS || 20);

// mulberry32: tiny, fast, and good enough to make a reproducible workload.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(SEED);
const u32 = () => Math.floor(rnd() * 4294967296) >>> 0;
const between = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const mask = (len) => (len <= 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0);
const v4Text = (a) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
const v6Text = (w) => {
  const g = [];
  for (const x of w) g.push((x >>> 16).toString(16), (x & 0xffff).toString(16));
  return g.join(':');
};
const maskWords = (w, len) => w.map((x, i) => (x & mask(len - 32 * i)) >>> 0);

// --- workload (not timed) ---
const prefixes = []; // { cidr, family, words, length }
const seen = new Set();
while (prefixes.length < PREFIXES) {
  const v4 = prefixes.length % 2 === 0;
  const length = v4 ? between(8, 32) : between(16, 64);
  const words = v4 ? maskWords([u32()], length) : maskWords([(u32() & 0x1fffffff) | 0x20000000, u32(), u32(), u32()], length);
  const cidr = `${v4 ? v4Text(words[0]) : v6Text(words)}/${length}`;
  if (seen.has(cidr)) continue;
  seen.add(cidr);
  prefixes.push({ cidr, family: v4 ? 4 : 6, words, length });
}

function randomAddress() {
  const v4 = rnd() < 0.5;
  const inside = rnd() < 0.5;
  let words;
  if (inside) {
    // Pick a prefix of the right family and fill its host bits at random.
    let p;
    do p = prefixes[Math.floor(rnd() * prefixes.length)];
    while (p.family !== (v4 ? 4 : 6));
    words = p.words.map((x, i) => (x | (u32() & ~mask(p.length - 32 * i))) >>> 0);
  } else {
    words = v4 ? [u32()] : [(u32() & 0x1fffffff) | 0x20000000, u32(), u32(), u32()];
  }
  if (!v4) return { text: v6Text(words), plain: v6Text(words) };
  const plain = v4Text(words[0]);
  return { text: rnd() < 0.25 ? `::ffff:${plain}` : plain, plain };
}
const lookups = Array.from({ length: LOOKUPS }, randomAddress);
const lookupTexts = lookups.map((l) => l.text);

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
// CPU time as well as wall time: on a shared machine the wall clock also counts time spent
// waiting for a CPU.
const cpuMs = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
const fmt = (n) => Math.round(n).toLocaleString('en-US');

// --- trie build ---
const entries = prefixes.map((p, i) => [p.cidr, i]);
let t0 = process.hrtime.bigint();
let c0 = process.cpuUsage();
const trie = table.buildPrefixTable(entries);
const buildMs = ms(t0);
const buildCpu = cpuMs(c0);

// --- trie lookups (short warm-up so the optimising compiler has seen the hot path) ---
let hits = 0;
for (let i = 0; i < Math.min(50_000, LOOKUPS); i++) if (trie.lookup(lookupTexts[i]) !== undefined) hits++;
hits = 0;
t0 = process.hrtime.bigint();
c0 = process.cpuUsage();
for (let i = 0; i < LOOKUPS; i++) if (trie.lookup(lookupTexts[i]) !== undefined) hits++;
const lookupMs = ms(t0);
const lookupCpu = cpuMs(c0);

// --- baseline: ip-cidr objects and a linear scan with contains() ---
t0 = process.hrtime.bigint();
c0 = process.cpuUsage();
const cidrs = prefixes.map((p, id) => ({ family: p.family, length: p.length, id, c: new IPCIDR(p.cidr) }));
const baselineBuildMs = ms(t0);
const baselineBuildCpu = cpuMs(c0);
const byFamily = { 4: cidrs.filter((x) => x.family === 4), 6: cidrs.filter((x) => x.family === 6) };
let mismatches = 0;
const baselineAnswers = [];
const deadline = process.hrtime.bigint() + BigInt(BASELINE_SECONDS * 1e9);
t0 = process.hrtime.bigint();
c0 = process.cpuUsage();
for (let n = 0; n < BASELINE_LOOKUPS && process.hrtime.bigint() < deadline; n++) {
  // Parse once per lookup and scan one family only: the fastest honest use of contains().
  const l = lookups[n];
  const addr = IPCIDR.createAddress(l.plain);
  const family = l.plain.includes(':') ? 6 : 4;
  let best;
  for (const x of byFamily[family]) if ((best === undefined || x.length > best.length) && x.c.contains(addr)) best = x;
  baselineAnswers.push(best === undefined ? undefined : best.id);
}
const baselineMs = ms(t0);
const baselineCpu = cpuMs(c0);
const baselineDone = baselineAnswers.length;
baselineAnswers.forEach((answer, i) => {
  if (trie.lookup(lookups[i].text) !== answer) mismatches++;
});

// --- report ---
const rate = (n, msec) => (n / msec) * 1000;
const trieRate = rate(LOOKUPS, lookupMs);
const baseRate = rate(baselineDone, baselineMs);
const rows = [
  ['trie build', `${fmt(PREFIXES)} prefixes`, buildMs, buildCpu, `${fmt(rate(PREFIXES, buildMs))} prefixes/s`],
  ['trie lookup', `${fmt(LOOKUPS)} lookups`, lookupMs, lookupCpu, `${fmt(trieRate)} lookups/s`],
  ['ip-cidr objects', `${fmt(PREFIXES)} prefixes`, baselineBuildMs, baselineBuildCpu, `${fmt(rate(PREFIXES, baselineBuildMs))} prefixes/s`],
  ['ip-cidr linear scan', `${fmt(baselineDone)} lookups`, baselineMs, baselineCpu, `${baseRate.toFixed(2)} lookups/s`],
];
const load = os
  .loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
console.log(`Region table, node ${process.version}, ${os.cpus().length} CPUs, load average ${load}, seed ${SEED}`);
console.log(`${fmt(PREFIXES)} prefixes (half IPv4 /8-/32, half IPv6 /16-/64), mixed IPv4 / mapped IPv4 / IPv6 lookups`);
console.log('');
console.log('| what | work | wall (ms) | cpu (ms) | rate (wall) |');
console.log('|---|---|---:|---:|---:|');
for (const [what, work, t, c, r] of rows) console.log(`| ${what} | ${work} | ${t.toFixed(1)} | ${c.toFixed(1)} | ${r} |`);
console.log('');
console.log(`lookup rate ratio, trie / linear scan: ${fmt(trieRate / baseRate)}x`);
const { nodes, leaves } = trie.stats;
const mib = (nodes * 64 + leaves * 40) / 1048576;
console.log(
  `compiled trie: ${fmt(nodes)} nodes (64 B) + ${fmt(leaves)} leaves (40 B) = ${mib.toFixed(1)} MiB; ${fmt(hits)} of ${fmt(LOOKUPS)} lookups matched`,
);
console.log(`baseline cross-check: ${mismatches} of ${fmt(baselineDone)} answers differ`);
const ok = buildMs < 1000 && trieRate >= 1_000_000 && mismatches === 0;
console.log(`goals (build < 1 s, >= 1,000,000 lookups/s, answers agree): ${ok ? 'met' : 'NOT met'}`);
process.exitCode = ok ? 0 : 1;
