import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ReadBufferAgent } from '../../core/tuning/read-buffer';

/** Upstream sockets read into one shared buffer: whatever a caller keeps must still be intact later. */

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function get(agent: http.Agent, port: number, path: string): Promise<{ body: Buffer; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        const chunks: Buffer[] = [];
        // Kept, not copied: each chunk must be the parser's own copy, not a view of the read buffer.
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ body: Buffer.concat(chunks), socket: res.socket }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

t.test('large bodies on concurrent and reused keep-alive sockets arrive intact', async (t) => {
  const bodies = [randomBytes(3 * 1024 * 1024 + 17), randomBytes(5 * 1024 * 1024), randomBytes(1)];
  const server = http.createServer((req, res) => {
    const body = bodies[Number(req.url!.slice(1))];
    res.writeHead(200, { 'content-length': body.length });
    // Written in odd-sized pieces so that reads straddle header/body and chunk boundaries.
    for (let i = 0; i < body.length; i += 100_003) res.write(body.subarray(i, i + 100_003));
    res.end();
  });
  const port = await listen(server);
  const agent = new ReadBufferAgent({ keepAlive: true, maxSockets: 2 });
  t.teardown(() => {
    agent.destroy();
    server.close();
  });
  const first = await Promise.all([get(agent, port, '/0'), get(agent, port, '/1'), get(agent, port, '/2')]);
  first.forEach((r, i) => t.equal(sha(r.body), sha(bodies[i]), `body ${i} intact (concurrent)`));
  const again = await get(agent, port, '/1');
  t.equal(sha(again.body), sha(bodies[1]), 'body intact on a reused socket');
  t.ok(
    first.some((r) => r.socket === again.socket),
    'the socket was reused',
  );
});

t.test('after a 101 answer the head and the following bytes reach the upgrade listener intact', async (t) => {
  const head = randomBytes(70_000);
  const rest = randomBytes(300_000);
  const server = net.createServer((sock) => {
    sock.once('data', () => {
      sock.write(Buffer.concat([Buffer.from('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: test\r\n\r\n'), head]));
      setTimeout(() => sock.end(rest), 20);
    });
  });
  const port = await listen(server);
  const agent = new ReadBufferAgent({ keepAlive: true });
  t.teardown(() => {
    agent.destroy();
    server.close();
  });
  const got = await new Promise<Buffer>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent, headers: { connection: 'upgrade', upgrade: 'test' } });
    req.on('upgrade', (_res, socket, bodyHead: Buffer) => {
      const chunks = [bodyHead];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(sha(got), sha(Buffer.concat([head, rest])), 'every byte after the 101 arrives, in order');
});

t.test("bytes written to an idle pooled socket are handled as by Node's own agent", async (t) => {
  // An upstream writing on an idle keep-alive socket breaks the protocol; whatever Node's
  // agent does with those bytes (today: they are dropped), this agent must do the same.
  async function run(agent: http.Agent): Promise<string[]> {
    let serverSide: net.Socket | undefined;
    const server = net.createServer((sock) => {
      serverSide = sock;
      sock.on('data', () => sock.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=5\r\n\r\nok'));
    });
    const port = await listen(server);
    try {
      const first = await get(agent, port, '/');
      await new Promise((r) => setImmediate(r));
      serverSide!.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale');
      await new Promise((r) => setTimeout(r, 50));
      const second = await get(agent, port, '/').then(
        (r) => r.body.toString(),
        (e: NodeJS.ErrnoException) => `error ${e.code}`,
      );
      return [first.body.toString(), second];
    } finally {
      agent.destroy();
      server.close();
    }
  }
  const stock = await run(new http.Agent({ keepAlive: true }));
  t.same(await run(new ReadBufferAgent({ keepAlive: true })), stock, `same answers as http.Agent (${stock.join(', ')})`);
});

t.test('server.tuning.readBuffer: used on tested Node majors only, and can be switched off', async (t) => {
  const { useReadBuffer } = await import('../../core/tuning/read-buffer');
  const { Runtime } = await import('../../core/server/runtime');
  const { validateConfig } = await import('../../app');
  const { GatewayMetrics } = await import('../../core/observe/metrics');
  const warnings: unknown[] = [];
  const log = { warn: (o: unknown) => warnings.push(o) } as never;
  const cases: { desc: string; requested: boolean; major: number; want: boolean }[] = [
    { desc: 'on, Node 20 (tested)', requested: true, major: 20, want: true },
    { desc: 'off, Node 20', requested: false, major: 20, want: false },
    { desc: 'on, an untested major: the stock agent', requested: true, major: 99, want: false },
    { desc: 'on, another untested major: no second warning', requested: true, major: 98, want: false },
  ];
  for (const c of cases) await t.test(c.desc, async (t) => t.equal(useReadBuffer(c.requested, log, c.major), c.want));
  t.equal(warnings.length, 1, 'the untested major is warned about once per process');

  const agents = async (readBuffer: boolean) => {
    const loaded = validateConfig({
      server: { tuning: { readBuffer } },
      upstreams: { be: { targets: ['http://127.0.0.1:1'] } },
      routes: [{ upstream: 'be' }],
    });
    const { testLogger } = await import('../helpers/servers');
    const { container } = await import('tsyringe');
    const { UpstreamRegistry } = await import('../../core/upstream/registry');
    const { AD_HOC_DEFAULTS } = await import('../../core/server/runtime');
    const { StoreHost } = await import('../../core/store/host');
    const { storeSpec } = await import('../../core/store/spec');
    const registry = new UpstreamRegistry(testLogger());
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const rt = await Runtime.create(loaded, {
      logger: testLogger(),
      metrics,
      // Never opened: no plugin here takes it.
      store: new StoreHost(storeSpec(loaded.config.store, loaded.dir), testLogger(), metrics.registry),
      container: container.createChildContainer(),
      upstreams: registry,
      clientIp: () => '',
      shutdown: new AbortController().signal,
    });
    // The gateway applies a generation's upstreams to its registry as the generation takes over.
    registry.apply(loaded.config.upstreams, rt.readBuffer, AD_HOC_DEFAULTS);
    const agent = rt.pools.get('be')!.targets[0].agent;
    const adHoc = rt.adHocPool('http://127.0.0.1:2').targets[0].agent;
    await rt.dispose();
    registry.close();
    return [agent, adHoc];
  };
  for (const [on, want] of [
    [true, true],
    [false, false],
  ] as const) {
    t.test(`readBuffer: ${on}: declared and ad-hoc pools ${want ? 'read into the shared buffer' : 'use the stock agent'}`, async (t) => {
      for (const agent of await agents(on)) t.equal(agent instanceof ReadBufferAgent, want);
    });
  }
});
