#!/usr/bin/env node
'use strict';
/**
 * Registry propagation: how long from `PUT /registry/services/svc` (the add resolved) to the
 * first request that a registry-backed upstream routes to the new target, over N changes, each
 * to a target not used before. Two layouts in one run:
 *   - sqlite: one gatehouse process, the add through its own admin API;
 *   - redis: two gatehouse processes on one redis-server (appendfsync always), the add through
 *     one and the requests through the other.
 * Traefik's Consul provider, for comparison, polls every 15 s by default.
 *
 *   npx tsc -p . && node bench/registry.js [--changes 100] [--no-redis]
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { until } = require('./lib');

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'gatehouse.js');
const argv = process.argv.slice(2);
const CHANGES = Number(argv[argv.indexOf('--changes') + 1]) || 100;
const REDIS = !argv.includes('--no-redis') && fs.existsSync('/usr/bin/redis-server');
const TOKEN = 'bench-registry-token-0123456789';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function get(port, p = '/') {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', () => resolve(''));
  });
}

function put(port, p, value) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(value);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: p,
        method: 'PUT',
        agent: false,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${p}: ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** A gatehouse started from a config file; resolves with its ports once it logs that it listens. */
function gatehouse(file) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start', '-c', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (c) => {
      buf += c;
      for (const line of buf.split('\n')) {
        if (!line.includes('gatehouse listening')) continue;
        const { addresses } = JSON.parse(line);
        resolve({ child, port: addresses.http.port, admin: addresses.admin.port });
      }
    });
    child.once('exit', (code) => reject(new Error(`gatehouse exited (${code})`)));
  });
}

function config(dir, store) {
  const file = path.join(dir, `gatehouse-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(
    file,
    [
      'server: { http: { port: 0, host: 127.0.0.1 } }',
      `admin: { port: 0, token: ${TOKEN} }`,
      `store: ${store}`,
      'registry: {}',
      'log: { level: info, accessLog: false }',
      'upstreams: { svc: { registry: svc } }',
      'routes:',
      '  - match: { path: / }',
      '    upstream: svc',
      '',
    ].join('\n'),
  );
  return file;
}

/** N changes: each adds a new target and waits until `reader` routes to it; the ms of each. */
async function measure(writer, reader, backends) {
  const times = [];
  for (let i = 0; i < CHANGES; i++) {
    const be = backends[i % backends.length];
    const mark = `${be.name}`;
    const started = performance.now();
    await put(writer.admin, '/registry/services/svc', { targets: [be.url] });
    // Back to back: the wait is what is measured.
    await until(async () => (await get(reader.port)) === mark, 5000, `change ${i} not routed within 5 s`, 0);
    times.push(performance.now() - started);
  }
  return times;
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-bench-registry-'));
  const children = [];
  // Two backends alternate, so that each change is a new target (a different answer).
  const backends = await Promise.all(
    ['a', 'b'].map(
      (name) =>
        new Promise((resolve) => {
          const s = http
            .createServer((_req, res) => res.end(name))
            .listen(0, '127.0.0.1', () => resolve({ name, url: `http://127.0.0.1:${s.address().port}`, s }));
        }),
    ),
  );
  const rows = [];
  try {
    const one = await gatehouse(config(dir, `sqlite:${path.join(dir, 'r.db')}`));
    children.push(one.child);
    rows.push(['sqlite, one process', await measure(one, one, backends)]);
    if (REDIS) {
      const port = await freePort();
      const redis = spawn(
        '/usr/bin/redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', dir],
        { stdio: 'ignore' },
      );
      children.push(redis);
      const listening = () =>
        new Promise((r) =>
          net
            .connect(port, '127.0.0.1')
            .on('connect', function () {
              this.destroy();
              r(true);
            })
            .on('error', () => r(false)),
        );
      // Not listening after 2.5 s: go on all the same, and the gatehouse that cannot reach it says so.
      await until(listening, 2500, 'redis-server is not listening', 50).catch(() => undefined);
      const file = config(dir, `redis://127.0.0.1:${port}`);
      const a = await gatehouse(file);
      const b = await gatehouse(file);
      children.push(a.child, b.child);
      rows.push(['redis, two processes', await measure(a, b, backends)]);
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
    for (const b of backends) b.s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${CHANGES} changes each`,
  );
  console.log('| layout | p50 ms | p99 ms | max ms |');
  console.log('|---|---:|---:|---:|');
  for (const [name, times] of rows) {
    const s = [...times].sort((x, y) => x - y);
    console.log(`| ${name} | ${quantile(s, 0.5).toFixed(1)} | ${quantile(s, 0.99).toFixed(1)} | ${s[s.length - 1].toFixed(1)} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
