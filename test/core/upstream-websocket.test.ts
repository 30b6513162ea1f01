import net from 'node:net';
import t from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import { expectError, type Answer } from '../helpers/errors';
import { until } from '../helpers/gatehouse-process';
import { request, startBackend, type Teardown } from '../helpers/servers';
import { fileGateway } from '../helpers/upstream-fixtures';

/** A WebSocket backend that greets with its name; counts upgrades it accepted and sessions open now. */
async function wsBackend(t: Teardown, name: string, opts: { refuse?: number } = {}) {
  const stats = { name, upgrades: 0, open: 0, maxOpen: 0, http: 0 };
  const be = await startBackend(t, (_req, res) => {
    stats.http++;
    res.end(name);
  });
  const wss = new WebSocketServer({ noServer: true });
  be.server.on('upgrade', (req, socket, head) => {
    if (opts.refuse) {
      socket.end(`HTTP/1.1 ${opts.refuse} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      stats.upgrades++;
      stats.open++;
      stats.maxOpen = Math.max(stats.maxOpen, stats.open);
      ws.on('close', () => stats.open--);
      ws.send(name);
    });
  });
  t.teardown(() => wss.close());
  return Object.assign(stats, { url: be.url });
}

type Opened = { ws: WebSocket; greeting: string; at: number };

/** Open a WebSocket: its first message (the backend's name), or the HTTP answer that refused it. */
function open(url: string): { ws: WebSocket; result: Promise<Opened | Answer> } {
  const ws = new WebSocket(url);
  const result = new Promise<Opened | Answer>((resolve, reject) => {
    ws.once('message', (m) => resolve({ ws, greeting: m.toString(), at: Date.now() }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    ws.once('error', reject);
  });
  return { ws, result };
}

function closed(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((r) => ws.once('close', () => r()));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A backend that switches protocols on any upgrade and echoes the bytes (head included) back. */
async function echoUpgrades(t: Teardown) {
  const be = await startBackend(t, (_req, res) => res.end('plain'));
  be.server.on('upgrade', (_req, socket: net.Socket, head: Buffer) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    if (head.length) socket.write(head);
    socket.pipe(socket);
  });
  return be;
}

/** A raw upgrade request on its own connection; `received()` is what came back so far. */
function rawUpgrade(port: number, path: string) {
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  sock.on('data', (d) => (got += d.toString('latin1')));
  sock.on('error', () => undefined);
  sock.write(
    `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  return { sock, received: () => got };
}

t.test('WebSocket upgrades and maxConnectionsPerTarget', async (t) => {
  const a = await wsBackend(t, 'a');
  const b = await wsBackend(t, 'b');
  const refuses = await wsBackend(t, 'refuses', { refuse: 403 });
  const echo = await echoUpgrades(t);
  const { gw, url } = await fileGateway(t, {
    upstreams: {
      one: { targets: [a.url], maxConnectionsPerTarget: 1, queue: { max: 5, timeoutMs: 10000 } },
      short: { targets: [a.url], maxConnectionsPerTarget: 1, queue: { max: 5, timeoutMs: 200 } },
      noqueue: { targets: [a.url], maxConnectionsPerTarget: 1, queue: { max: 0 } },
      two: { targets: [a.url, b.url], maxConnectionsPerTarget: 1 },
      refuses: { targets: [refuses.url], maxConnectionsPerTarget: 1 },
      ewma: { targets: [a.url], balance: 'p2c-ewma' },
      echo: { targets: [echo.url], maxConnectionsPerTarget: 1 },
    },
    routes: ['one', 'short', 'noqueue', 'two', 'refuses', 'ewma', 'echo'].map((u) => ({
      match: { path: `/${u}` },
      upstream: u,
      websocket: true,
    })),
  });
  const ws = url.replace('http:', 'ws:');
  const port = Number(new URL(url).port);
  const pool = (name: string) => gw.upstreams.get(name)!;

  await t.test('an open session holds its slot; the next upgrade waits in the queue until it closes', async (t) => {
    const first = open(`${ws}/one`);
    const s1 = (await first.result) as Opened;
    t.equal(s1.greeting, 'a');
    t.equal(pool('one').targets[0].active, 1, 'the open session counts in flight');
    const second = open(`${ws}/one`);
    await until(async () => pool('one').queued() === 1);
    await sleep(100);
    t.equal(a.upgrades, 1, 'the waiting upgrade did not reach the backend');
    const closedAt = Date.now();
    s1.ws.close();
    const s2 = (await second.result) as Opened;
    t.equal(s2.greeting, 'a', 'served once the first session closed');
    t.ok(s2.at >= closedAt, 'not before');
    t.equal(a.maxOpen, 1, 'never two sessions at once on the target');
    s2.ws.close();
    await closed(s2.ws);
    await until(async () => pool('one').targets[0].active === 0);
    t.pass('the slot is free once the session closed');
  });

  await t.test('an open session holds the slot against plain requests too', async (t) => {
    const s = (await open(`${ws}/one`).result) as Opened;
    let answered = false;
    const get = request(`${url}/one`).then((r) => {
      answered = true;
      return r;
    });
    await until(async () => pool('one').queued() === 1);
    await sleep(100);
    t.notOk(answered, 'the GET waits');
    s.ws.close();
    t.equal((await get).body, 'a', 'and is served when the session closes');
    await until(async () => pool('one').targets[0].active === 0);
  });

  const refusals = [
    { desc: 'queue timeout: 503 GH_ERR_UPSTREAM_QUEUE_TIMEOUT on the upgrade', path: '/short', code: 'GH_ERR_UPSTREAM_QUEUE_TIMEOUT' },
    { desc: 'no queue: 503 GH_ERR_UPSTREAM_QUEUE_FULL at once', path: '/noqueue', code: 'GH_ERR_UPSTREAM_QUEUE_FULL' },
  ];
  for (const c of refusals) {
    await t.test(c.desc, async (t) => {
      const s = (await open(`${ws}${c.path}`).result) as Opened;
      const before = a.upgrades;
      const refused = (await open(`${ws}${c.path}`).result) as Answer;
      expectError(t, refused, c.code, 503);
      t.equal(a.upgrades, before, 'nothing reached the backend');
      t.equal(pool(c.path.slice(1)).queued(), 0, 'nothing left waiting');
      s.ws.close();
      await closed(s.ws);
      await until(async () => pool(c.path.slice(1)).targets[0].active === 0);
    });
  }

  await t.test('a waiting upgrade whose client leaves is out of the queue at once and never sent', async (t) => {
    const s = (await open(`${ws}/one`).result) as Opened;
    const before = a.upgrades;
    const gone = open(`${ws}/one`);
    gone.result.catch(() => undefined);
    await until(async () => pool('one').queued() === 1);
    gone.ws.terminate();
    await until(async () => pool('one').queued() === 0);
    s.ws.close();
    await closed(s.ws);
    await until(async () => pool('one').targets[0].active === 0);
    await sleep(50);
    t.equal(a.upgrades, before, 'the abandoned upgrade never reached the backend');
  });

  await t.test('bytes a queued upgrade sends before its slot reach the upstream, in order, once it has one', async (t) => {
    const holder = rawUpgrade(port, '/echo');
    await until(async () => holder.received().includes(' 101 '));
    const queued = rawUpgrade(port, '/echo');
    await until(async () => pool('echo').queued() === 1);
    queued.sock.write('early-');
    await sleep(50);
    queued.sock.write('bytes');
    await sleep(50);
    t.equal(queued.received(), '', 'nothing answered while it waits');
    holder.sock.destroy();
    await until(async () => queued.received().endsWith('early-bytes'));
    t.match(queued.received(), /^HTTP\/1\.1 101 /, 'switched once the slot freed');
    queued.sock.write('+later');
    await until(async () => queued.received().endsWith('early-bytes+later'));
    t.pass('and the session flows both ways after');
    queued.sock.destroy();
    await until(async () => pool('echo').targets[0].active === 0);
  });

  await t.test('two targets, limit 1 each: two sessions spread, a third waits', async (t) => {
    const s1 = (await open(`${ws}/two`).result) as Opened;
    const s2 = (await open(`${ws}/two`).result) as Opened;
    t.same([s1.greeting, s2.greeting].sort(), ['a', 'b'], 'one session on each target');
    const third = open(`${ws}/two`);
    await until(async () => pool('two').queued() === 1);
    s2.ws.close();
    const s3 = (await third.result) as Opened;
    t.equal(s3.greeting, s2.greeting, 'the third takes the slot that freed');
    s1.ws.close();
    s3.ws.close();
    await Promise.all([closed(s1.ws), closed(s3.ws)]);
    await until(async () => pool('two').targets.every((x) => x.active === 0));
  });

  await t.test('an upgrade the upstream refuses frees its slot', async (t) => {
    const refused = (await open(`${ws}/refuses`).result) as Answer;
    t.equal(refused.status, 403, "the upstream's refusal is relayed");
    await until(async () => pool('refuses').targets[0].active === 0);
    const again = (await open(`${ws}/refuses`).result) as Answer;
    t.equal(again.status, 403, 'the next upgrade is not stuck in the queue');
  });

  await t.test("a session's length is not latency: p2c-ewma's EWMA stays at the time to switch", async (t) => {
    const s = (await open(`${ws}/ewma`).result) as Opened;
    await sleep(600);
    s.ws.close();
    await closed(s.ws);
    await until(async () => pool('ewma').targets[0].active === 0);
    const ewma = pool('ewma').targets[0].ewmaMs;
    t.ok(ewma < 300, `EWMA ${ewma.toFixed(1)} ms, not the 600 ms session`);
  });
});
