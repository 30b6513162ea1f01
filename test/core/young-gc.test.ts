import t, { type Test } from 'tap';
import net from 'node:net';
import vm from 'node:vm';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { countUpstreamRead, gcRequested, setGcEvery } from '../../core/upstream/young-gc';
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
    setGcEvery(c.mib);
    const before = gcRequested();
    const seen = await scavenges(() => { for (let i = 0; i < c.reads; i++) countUpstreamRead(c.size); });
    t.equal(gcRequested() - before, c.want, c.desc);
    t.ok(seen >= c.want, `${c.desc}: V8 reported at least that many scavenges (${seen})`);
  }
  setGcEvery(8);
});

t.test('gc is not left exposed to contexts created afterwards', async (t) => {
  setGcEvery(0.001);
  countUpstreamRead(4096);
  t.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'not on the main global');
  t.equal(vm.runInNewContext('typeof gc'), 'undefined', 'not in a new vm context');
  setGcEvery(8);
});

/**
 * Stream `total` bytes through a gateway whose config sets `gcEveryMiB` and return the most
 * ArrayBuffer memory this process held (gateway, upstream and client share it) while doing
 * so. The client reads raw HTTP into one reused buffer and the upstream writes one block again
 * and again, so the buffers counted are the ones the gateway allocates per chunk.
 */
async function peakArrayBuffers(t: Test, gcEveryMiB: number, total: number): Promise<{ peak: number; bytes: number }> {
  const block = Buffer.alloc(256 * 1024, 7);
  const be = await startBackend((_req, res) => {
    res.writeHead(200, { 'content-length': total });
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += block.length;
        if (!res.write(block)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  const { gw, port } = await startGateway({ server: { gcEveryMiB }, upstreams: { be: { targets: [be.url] } }, routes: [{ match: { path: '/' }, upstream: 'be' }] });
  t.teardown(async () => { await gw.close(100); await be.close(); });
  return new Promise((resolve, reject) => {
    let peak = 0;
    let bytes = 0;
    let head = -1;
    const buffer = Buffer.alloc(64 * 1024);
    const sock = net.connect({
      port, host: '127.0.0.1',
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

t.test('streaming through the gateway: body chunks are freed every gcEveryMiB, not after ~32 MiB', async (t) => {
  const total = 160 * MIB;
  const cases = [
    { desc: 'gcEveryMiB 4: pending buffers stay far below V8\'s own trigger', gcEveryMiB: 4, check: (peak: number) => peak < 20 },
    { desc: 'gcEveryMiB 0 (control, V8 alone): they pile up to about 32 MiB or more', gcEveryMiB: 0, check: (peak: number) => peak > 28 },
  ];
  for (const c of cases) {
    const { peak, bytes } = await peakArrayBuffers(t, c.gcEveryMiB, total);
    t.equal(bytes, total, `${c.desc}: the whole body arrived`);
    t.ok(c.check(peak), `${c.desc} (peak ${peak.toFixed(1)} MiB of ArrayBuffers)`);
  }
  setGcEvery(8);
});

t.test('the collections are counted in /metrics', async (t) => {
  const be = await startBackend((_req, res) => res.end(Buffer.alloc(3 * MIB)));
  const { gw, url } = await startGateway({ server: { gcEveryMiB: 1 }, upstreams: { be: { targets: [be.url] } }, routes: [{ match: { path: '/' }, upstream: 'be' }] });
  t.teardown(async () => { await gw.close(100); await be.close(); });
  const before = gcRequested();
  t.equal((await request(`${url}/x`)).status, 200);
  t.ok(gcRequested() - before >= 2, '3 MiB read at a 1 MiB threshold: at least 2 collections');
  const text = await gw.metrics.registry.metrics();
  t.match(text, new RegExp(`^gatehouse_upstream_read_gc_total ${gcRequested()}$`, 'm'), 'the counter reports the process total');
  setGcEvery(8);
});
