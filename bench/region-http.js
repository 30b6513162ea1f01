'use strict';
/**
 * Full HTTP path of region-routing (respond mode) against core's `respond` plugin, in one run.
 *
 *   npx tsc -p . && node bench/region-http.js [seconds=5] [connections=20]
 *
 * The gateway runs in a child process (so the load generator does not share its event loop);
 * autocannon runs here. Both routes are on the same gateway and measured one after the other,
 * after a warm-up each. The region table holds 10,000 IPv4 and 10,000 IPv6 prefixes; requests
 * carry no hint, so every one is an IP lookup (the peer, 127.0.0.1, is in a /8 of region r0).
 */
const { fork } = require('node:child_process');
const autocannon = require('autocannon');

if (process.argv[2] === 'child') {
  require('reflect-metadata');
  const { createGateway } = require('../dist/app');
  const regions = {};
  for (let r = 0; r < 100; r++) {
    regions[`r${r}`] = {
      publicIps: Array.from({ length: 100 }, (_, i) => (r === 0 && i === 0 ? '127.0.0.0/8' : `${10 + (r % 200)}.${i}.${r}.0/24`)),
      publicIpsV6: Array.from({ length: 100 }, (_, i) => `2001:db8:${r.toString(16)}:${i.toString(16)}::/64`),
      servers: [
        { ip: '192.0.2.1', name: 'smt.example', registryName: 'registry.example', fingerprint: 'AA:BB' },
        { ip: '192.0.2.2', name: 'smt2.example', registryName: 'registry.example', fingerprint: 'AA:BB' },
      ],
    };
  }
  const body =
    '<regionSMTdata>\n<smtInfo SMTserverIP="192.0.2.1" SMTserverName="smt.example" SMTregistryName="registry.example" fingerprint="AA:BB" region="r0"/>\n<smtInfo SMTserverIP="192.0.2.2" SMTserverName="smt2.example" SMTregistryName="registry.example" fingerprint="AA:BB" region="r0"/>\n</regionSMTdata>';
  createGateway({
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      log: { level: 'warn', accessLog: false },
      routes: [
        {
          match: { pathExact: '/respond' },
          plugins: [{ respond: { body, headers: { 'content-type': 'application/xml; charset=utf-8' } } }],
        },
        { match: { pathExact: '/regionInfo' }, plugins: [{ 'region-routing': { regions } }] },
      ],
    },
  })
    .then((gw) => gw.listen())
    .then((gw) => process.send({ port: gw.addresses.http.port }));
  return;
}

const seconds = Number(process.argv[2] ?? 5);
const connections = Number(process.argv[3] ?? 20);
const run = (url, duration) =>
  new Promise((resolve, reject) => autocannon({ url, connections, duration }, (err, r) => (err ? reject(err) : resolve(r))));

(async () => {
  const child = fork(__filename, ['child']);
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  // A B B A order, averaged, so that warm-up and machine drift fall on both sides alike.
  const sums = {};
  const targets = [
    ['respond', '/respond'],
    ['region-routing', '/regionInfo'],
  ];
  for (const [name, path] of [...targets, ...[...targets].reverse()]) {
    const url = `http://127.0.0.1:${port}${path}`;
    await run(url, 1);
    const r = await run(url, seconds);
    if (r.non2xx || r.errors) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    const s = (sums[name] ??= { rps: 0, p50: 0, p99: 0 });
    s.rps += r.requests.average / 2;
    s.p50 += r.latency.p50 / 2;
    s.p99 += r.latency.p99 / 2;
  }
  const results = sums;
  child.kill();
  console.log(`node ${process.version}, ${require('node:os').cpus().length} CPUs, ${seconds}s per target, ${connections} connections`);
  console.table(results);
  const ratio = results['region-routing'].rps / results.respond.rps;
  console.log(`region-routing / respond throughput: ${ratio.toFixed(3)}x (goal >= 0.9: ${ratio >= 0.9 ? 'PASS' : 'MISS'})`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
