'use strict';
/**
 * One process of the passthrough benchmark, started by bench/passthrough.js over IPC:
 *
 *   node bench/passthrough-target.js backend
 *   node bench/passthrough-target.js bare      <backendPort>   (env BENCH_BARE_XFWD=1: http-proxy's xfwd on;
 *     BENCH_BARE_SPIN_US: busy-wait that many µs per request, as if the proxy did that much work)
 *   node bench/passthrough-target.js gatehouse <backendPort> [access-log | deployment | defaults]
 *   node bench/passthrough-target.js cluster   <backendPort>   (env BENCH_WORKERS: server.workers, default 2;
 *     the cluster primary, whose CPU figure includes its workers'; node:cluster forks this same command)
 *     (deployment: what a default deployment behind a load balancer pays: access log on,
 *     trustProxy with 3 CIDRs that include the load generator, 5 no-op plugins; defaults: the same
 *     without plugins, a route to an upstream as a new user's config has it)
 *     (env BENCH_GATEHOUSE_DIST: use another build's dist/; BENCH_PLUGINS: no-op plugin count, default 5)
 *
 * Each listens on 127.0.0.1:0 and sends { type: 'ready', port }. It then answers
 * { type: 'cpu' } with its process.cpuUsage() and exits cleanly on { type: 'stop' }
 * (a clean exit lets `node --cpu-prof` write its profile).
 */
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const path = require('node:path');

const [role, backendPortArg, variant] = process.argv.slice(2);
const backendPort = Number(backendPortArg);
const BODY = Buffer.from('hello from the backend\n');

/** The agent settings of core/upstream/pool.ts (UpstreamPool), with the schema defaults. */
const AGENT_OPTIONS = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 256, maxFreeSockets: 64, timeout: 30000, scheduling: 'lifo' };

let close = async () => undefined;
/** Requests this process handled (reported next to a CPU profile, to express it per request). */
let handled = async () => 0;
const extra = {};

function listenOn(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function backend() {
  const server = http.createServer((req, res) => {
    // Drain any request body, then answer a small fixed body on a keep-alive connection.
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
    res.end(BODY);
  });
  // Longer than the proxies' idle upstream sockets (30 s), so no pooled socket is closed under them.
  server.keepAliveTimeout = 65000;
  server.headersTimeout = 66000;
  close = () =>
    new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return listenOn(server);
}

/** The calibration variants of `bare` (bench/passthrough.js --calibrate). */
const BARE_XFWD = process.env.BENCH_BARE_XFWD === '1';
const BARE_SPIN_MS = Number(process.env.BENCH_BARE_SPIN_US || 0) / 1000;

/** Busy-wait: a fixed amount of work per request, to see what any added work costs in req/s. */
function spin(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

async function bare() {
  const httpProxy = require('http-proxy');
  const agent = new http.Agent(AGENT_OPTIONS);
  const proxy = httpProxy.createProxyServer({});
  const target = { protocol: 'http:', host: '127.0.0.1', hostname: '127.0.0.1', port: backendPort };
  // http-proxy copies its options per request, so one object serves every request.
  const options = { target, agent, xfwd: BARE_XFWD };
  proxy.on('error', () => undefined);
  let n = 0;
  handled = async () => n;
  const server = http.createServer((req, res) => {
    n++;
    if (BARE_SPIN_MS > 0) spin(BARE_SPIN_MS);
    proxy.web(req, res, options, () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  close = () =>
    new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
      agent.destroy();
    });
  return listenOn(server);
}

// BENCH_GATEHOUSE_DIST: another build's dist/ directory (passthrough.js --extra), to compare builds.
const dist = process.env.BENCH_GATEHOUSE_DIST ? path.resolve(process.env.BENCH_GATEHOUSE_DIST) : path.join(__dirname, '..', 'dist');
const pluginPath = path.join(__dirname, 'noop-plugin.js');

/** The benchmarked config: a route with BENCH_PLUGINS (5) no-op plugins. */
function benchConfig(server = {}) {
  // defaults: a new user's config behind a load balancer (access log on, trustProxy), no plugins.
  const deployment = variant === 'deployment' || variant === 'defaults';
  const accessLog = variant === 'access-log' || deployment;
  const pluginCount = variant === 'defaults' ? 0 : process.env.BENCH_PLUGINS === undefined ? 5 : Number(process.env.BENCH_PLUGINS);
  return {
    server: {
      http: { port: 0, host: '127.0.0.1' },
      ...(deployment ? { trustProxy: ['10.0.0.0/8', '172.16.0.0/12', '127.0.0.0/8'] } : {}),
      ...server,
    },
    // The access log goes to this process's stdout, which bench/passthrough.js points at a temp file.
    log: accessLog ? { accessLog: true, level: 'info' } : { accessLog: false, level: 'warn' },
    upstreams: { backend: { targets: [`http://127.0.0.1:${backendPort}`] } },
    routes: [
      {
        name: 'bench',
        match: { path: '/' },
        upstream: 'backend',
        plugins: Array.from({ length: pluginCount }, () => ({ [pluginPath]: {} })),
      },
    ],
  };
}

async function gatehouse() {
  const { createGateway } = require(path.join(dist, 'core'));
  const gateway = await createGateway({ config: benchConfig() });
  await gateway.listen();
  extra.plugins = require(pluginPath).instances();
  close = () => gateway.close(1000);
  handled = async () => (await gateway.metrics.requests.get()).values.reduce((a, v) => a + v.value, 0);
  return gateway.addresses.http.port;
}

/** CPU time (user + system) of other processes so far, in microseconds, from /proc (Linux; 10 ms ticks). */
function procCpuUs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime
    } catch {
      /* gone */
    }
  }
  return ticks * 10000;
}
let otherCpuUs = () => 0;

/** `server.workers: BENCH_WORKERS` through core's cluster primary, as `gatehouse start` runs it. */
async function cluster() {
  const config = benchConfig({ workers: Number(process.env.BENCH_WORKERS ?? 2) });
  if (require('node:cluster').isWorker) {
    const { runWorker } = require(path.join(dist, 'core/server/cluster-worker'));
    await runWorker({ config, plugins: [] }, String);
    return new Promise(() => undefined); // the primary stops it
  }
  const { validateConfig } = require(path.join(dist, 'core'));
  const { ClusterPrimary } = require(path.join(dist, 'core/server/cluster-primary'));
  const primary = new ClusterPrimary(validateConfig(config), config.server.workers, { config });
  primary.run(console).then((code) => code !== 0 && process.exit(code));
  while (!primary.gw?.ready) await new Promise((r) => setTimeout(r, 50));
  const pids = primary.slots.map((s) => s.worker.process.pid);
  extra.workerPids = pids;
  otherCpuUs = () => procCpuUs(pids);
  close = () => primary.shutdown();
  return primary.gw.addresses.http.port;
}

const roles = { backend, bare, gatehouse, cluster };

// CPU profile of the measured part only (no startup, no first warm-up), via the inspector.
let profiler;
async function profileStart(interval) {
  const inspector = require('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval });
  await post('Profiler.start');
  profiler = { session, post, requestsAtStart: await handled() };
}
async function profileStop(dir) {
  if (!profiler) return;
  const fs = require('node:fs');
  const { profile } = await profiler.post('Profiler.stop');
  const requests = (await handled()) - profiler.requestsAtStart;
  profiler.session.disconnect();
  profiler = undefined;
  const d = new Date();
  const p2 = (n) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${p2(d.getMonth() + 1)}${p2(d.getDate())}.${p2(d.getHours())}${p2(d.getMinutes())}${p2(d.getSeconds())}`;
  // Same naming as `node --cpu-prof`, plus the request count for per-request figures.
  fs.writeFileSync(path.join(dir, `CPU.${stamp}.${process.pid}.0.001.cpuprofile`), JSON.stringify(profile));
  fs.writeFileSync(path.join(dir, `requests-${process.pid}.json`), JSON.stringify({ role, variant, pid: process.pid, requests }));
}

process.on('message', async (msg) => {
  if (msg.type === 'cpu') {
    const usage = process.cpuUsage();
    process.send({ type: 'cpu', id: msg.id, usage: { ...usage, user: usage.user + otherCpuUs() }, rss: process.memoryUsage.rss() });
  }
  if (msg.type === 'profile-start') {
    await profileStart(msg.interval);
    process.send({ type: 'ack', id: msg.id });
  }
  if (msg.type === 'profile-stop') {
    await profileStop(msg.dir);
    process.send({ type: 'ack', id: msg.id });
  }
  if (msg.type === 'stop') {
    await close().catch(() => undefined);
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

if (!roles[role]) {
  console.error(`unknown role ${role}`);
  process.exit(2);
}
roles[role]().then(
  (port) => process.send({ type: 'ready', port, ...extra }),
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  },
);
