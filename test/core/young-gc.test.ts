import t, { type Test } from 'tap';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import vm from 'node:vm';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { generateCertificate } from '../../app';
import { countBodyBytes, gcRequested, setGcEvery } from '../../core/tuning/young-gc';
import { request, startBackend, startGateway } from '../helpers/servers';

const MIB = 1024 * 1024;

/** Young-generation (scavenge) collections seen while `fn` runs. */
async function scavenges(fn: () => unknown): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e.detail as { kind?: number } | undefined)?.kind === constants.NODE_PERFORMANCE_GC_MINOR) n++;
  });
  obs.observe({ entryTypes: ['gc'] });
  await fn();
  await new Promise((r) => setTimeout(r, 20)); // gc entries are delivered asynchronously
  obs.disconnect();
  return n;
}

t.test('a young collection runs each time the configured amount has been read', async (t) => {
  const cases = [
    { desc: '1 MiB threshold, 4.5 MiB read in 64 KiB reads: 4 collections', mib: 1, reads: 72, size: 64 * 1024, want: 4 },
    { desc: '0.5 MiB threshold, one 2 MiB read: 1 collection (the count restarts)', mib: 0.5, reads: 1, size: 2 * MIB, want: 1 },
    { desc: 'just under the threshold: none', mib: 1, reads: 15, size: 64 * 1024, want: 0 },
    { desc: '0 turns it off', mib: 0, reads: 200, size: 64 * 1024, want: 0 },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      setGcEvery(c.mib);
      const before = gcRequested();
      const seen = await scavenges(() => {
        for (let i = 0; i < c.reads; i++) countBodyBytes(c.size);
      });
      t.equal(gcRequested() - before, c.want, 'collections requested');
      t.ok(seen >= c.want, `V8 reported at least that many scavenges (${seen})`);
    });
  }
  setGcEvery(8);
});

t.test('gc is not left exposed to contexts created afterwards', async (t) => {
  setGcEvery(0.001);
  countBodyBytes(4096);
  t.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'not on the main global');
  t.equal(vm.runInNewContext('typeof gc'), 'undefined', 'not in a new vm context');
  setGcEvery(8);
});

/** One 256 KiB block, written again and again: the writer allocates nothing per write. */
const BLOCK = Buffer.alloc(256 * 1024, 7);

/** Write `total` bytes (a multiple of the block) of {@link BLOCK} to `out`, minding backpressure, then end it. */
function writeRepeated(out: Writable, total: number): void {
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      sent += BLOCK.length;
      if (!out.write(BLOCK)) return void out.once('drain', pump);
    }
    out.end();
  };
  pump();
}

/**
 * Stream `total` bytes through a gateway whose config sets `gcEveryMiB` and return the most
 * ArrayBuffer memory this process held (gateway, upstream and client share it) while doing
 * so. The client reads raw HTTP into one reused buffer and the upstream writes one block again
 * and again, so the buffers counted are the ones the gateway allocates per chunk.
 */
async function peakArrayBuffers(t: Test, gcEveryMiB: number, total: number): Promise<{ peak: number; bytes: number }> {
  const be = await startBackend(t, (_req, res) => {
    res.writeHead(200, { 'content-length': total });
    writeRepeated(res, total);
  });
  const { port } = await startGateway(t, {
    server: { tuning: { gcEveryMiB } },
    upstreams: { be: { targets: [be.url] } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  return new Promise((resolve, reject) => {
    let peak = 0;
    let bytes = 0;
    let head = -1;
    const buffer = Buffer.alloc(64 * 1024);
    const sock = net.connect({
      port,
      host: '127.0.0.1',
      onread: {
        buffer,
        callback(n: number) {
          if (head < 0) head = buffer.subarray(0, n).indexOf('\r\n\r\n') + 4; // the head comes in the first read
          bytes += n;
          peak = Math.max(peak, process.memoryUsage().arrayBuffers);
          return true;
        },
      },
    });
    sock.on('connect', () => sock.write('GET /big HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
    sock.on('end', () => resolve({ peak: peak / MIB, bytes: bytes - head }));
    sock.on('error', reject);
  });
}

/** An upstream in a child process that reads request bodies and answers with their length. */
async function startSink(t: Test): Promise<string> {
  const code = `require('http').createServer((q, s) => { let n = 0; q.on('data', (c) => { n += c.length; }); q.on('end', () => s.end(String(n))); })
    .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const [line] = await once(child.stdout!, 'data');
  return `http://127.0.0.1:${String(line).trim()}`;
}

/**
 * Upload `total` bytes through a gateway to an upstream in another process; returns the
 * collections run meanwhile. (Peak memory is not asserted for uploads: chunks that wait in
 * the upstream socket's queue survive collections, and how many do depends on scheduling
 * between the processes. `node bench/stream.js` measures the whole process instead.)
 */
async function uploadCollections(t: Test, gcEveryMiB: number, total: number): Promise<{ collections: number; bytes: number }> {
  const sink = await startSink(t);
  const { port } = await startGateway(t, {
    server: { tuning: { gcEveryMiB } },
    upstreams: { be: { targets: [sink] } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  const before = gcRequested();
  const answer = await new Promise<string>((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/up', headers: { 'content-length': total } }, (res) => {
      let body = '';
      res
        .on('data', (c: Buffer) => {
          body += c;
        })
        .on('end', () => resolve(body));
    });
    req.on('error', reject);
    writeRepeated(req, total);
  });
  return { collections: gcRequested() - before, bytes: Number(answer) };
}

t.test('relaying a body through the gateway: its chunks are freed every gcEveryMiB, not after ~32 MiB', async (t) => {
  const total = 160 * MIB;
  const cases = [
    {
      desc: "download, gcEveryMiB 2: pending buffers stay far below V8's own trigger",
      relay: peakArrayBuffers,
      gcEveryMiB: 2,
      check: (peak: number) => peak < 20,
    },
    {
      desc: 'download, gcEveryMiB 0 (control, V8 alone): they pile up to about 32 MiB or more',
      relay: peakArrayBuffers,
      gcEveryMiB: 0,
      check: (peak: number) => peak > 26,
    },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const { peak, bytes } = await c.relay(t, c.gcEveryMiB, total);
      t.equal(bytes, total, 'the whole body arrived');
      t.ok(c.check(peak), `peak ${peak.toFixed(1)} MiB of ArrayBuffers`);
    });
  }
  setGcEvery(8);
});

t.test('a request body relayed upstream is counted too', async (t) => {
  const total = 64 * MIB;
  const cases = [
    { desc: 'gcEveryMiB 2: one collection per 2 MiB of request body', gcEveryMiB: 2, min: 31, max: 33 },
    { desc: 'gcEveryMiB 0: none', gcEveryMiB: 0, min: 0, max: 0 },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const { collections, bytes } = await uploadCollections(t, c.gcEveryMiB, total);
      t.equal(bytes, total, 'the upstream got the whole body');
      t.ok(collections >= c.min && collections <= c.max, `${collections} collections`);
    });
  }
  setGcEvery(8);
});

t.test('an answer from an https upstream is counted too', async (t) => {
  const pair = await generateCertificate({ host: 'upstream.test', sanIps: ['127.0.0.1'], days: 1 });
  const body = Buffer.alloc(8 * MIB, 3);
  const server = https.createServer({ cert: pair.cert, key: pair.key }, (_req, res) => res.end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const { url } = await startGateway(t, {
    server: { tuning: { gcEveryMiB: 1 } },
    upstreams: { tls: { targets: [`https://127.0.0.1:${(server.address() as net.AddressInfo).port}`], insecure: true } },
    routes: [{ match: { path: '/' }, upstream: 'tls' }],
  });
  const before = gcRequested();
  const res = await request(`${url}/x`);
  t.equal(res.status, 200);
  t.equal(res.body.length, body.length, 'the whole answer arrived');
  const n = gcRequested() - before;
  t.ok(n >= 7 && n <= 8, `8 MiB from a TLS upstream at a 1 MiB threshold: 7 or 8 collections (${n})`);
  setGcEvery(8);
});

t.test('the collections are counted in /metrics', async (t) => {
  const be = await startBackend(t, (_req, res) => res.end(Buffer.alloc(3 * MIB)));
  const { gw, url } = await startGateway(t, {
    server: { tuning: { gcEveryMiB: 1 } },
    upstreams: { be: { targets: [be.url] } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  const before = gcRequested();
  t.equal((await request(`${url}/x`)).status, 200);
  t.ok(gcRequested() - before >= 2, '3 MiB read at a 1 MiB threshold: at least 2 collections');
  const text = await gw.metrics.registry.metrics();
  t.match(text, new RegExp(`^gatehouse_body_gc_total ${gcRequested()}$`, 'm'), 'the counter reports the process total');
  setGcEvery(8);
});
