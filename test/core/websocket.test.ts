import t from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import { expectError, type Answer } from '../helpers/errors';
import { until } from '../helpers/gatehouse-process';
import { startBackend, startGateway } from '../helpers/servers';

t.test('WebSocket upgrades are proxied on routes that allow them', async (t) => {
  const backend = await startBackend(t, (_req, res) => res.end('plain'));
  const wss = new WebSocketServer({ server: backend.server });
  t.teardown(() => wss.close());
  wss.on('connection', (socket, req) => {
    socket.send(`hello ${req.url} xff=${req.headers['x-forwarded-for']}`);
    socket.on('message', (m) => socket.send(`echo:${m}`));
  });
  const { gw, port } = await startGateway(t, {
    upstreams: { be: { targets: [backend.url] }, dead: { targets: ['http://127.0.0.1:1'] } },
    routes: [
      { match: { path: '/ws' }, upstream: 'be', websocket: true, stripPrefix: '/ws' },
      { match: { path: '/dead' }, upstream: 'dead', websocket: true },
      { match: { path: '/' }, upstream: 'be' },
    ],
  });

  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/chat`);
  const messages: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (m) => {
      messages.push(m.toString());
      if (messages.length === 1) ws.send('ping');
      if (messages.length === 2) resolve();
    });
    ws.on('error', reject);
  });
  t.same(messages, ['hello /chat xff=127.0.0.1', 'echo:ping'], 'both directions flow, path rewritten, X-Forwarded-For set');
  ws.close();

  const refused = await new Promise<number>((resolve) => {
    const c = new WebSocket(`ws://127.0.0.1:${port}/other`);
    c.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
    c.on('error', () => resolve(-1));
  });
  t.equal(refused, 400, 'a route without websocket: true refuses the upgrade');

  const dead = await new Promise<string | Answer>((resolve) => {
    const c = new WebSocket(`ws://127.0.0.1:${port}/dead`);
    c.on('open', () => resolve('open'));
    c.on('error', (e) => resolve(`error ${e.message}`));
    c.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
  });
  t.type(dead, 'object', `an unreachable upstream answers the upgrade (${typeof dead === 'string' ? dead : 'answered'})`);
  if (typeof dead !== 'string') expectError(t, dead, 'GH_ERR_UPSTREAM_UNREACHABLE');
  // Each upgrade is counted (and logged) once its socket closes, with the status the client got.
  const counted = [
    ['route-0', 101],
    ['route-2', 400],
    ['route-1', 502],
  ] as const;
  const line = (route: string, status: number) =>
    new RegExp(`gatehouse_requests_total\\{route="${route}",method="GET",status="${status}"\\} 1`);
  await until(async () => {
    const m = await gw.metrics.registry.metrics();
    return counted.every(([r, s]) => line(r, s).test(m));
  }, 3000).catch(() => undefined);
  const metrics = await gw.metrics.registry.metrics();
  t.match(metrics, /gatehouse_upstream_errors_total\{upstream="dead",kind="connect"\} 1/, 'the failed upgrade is counted');
  for (const [route, status] of counted) t.match(metrics, line(route, status), `upgrade counted: ${route} ${status}`);
});
