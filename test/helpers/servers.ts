import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createGateway, type Gateway } from '../../app';

/** What a helper needs of tap's `t` to clean up after itself. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A silent logger for tests (set GATEHOUSE_TEST_LOG=debug to see logs). */
export const testLogger = () => pino({ level: process.env.GATEHOUSE_TEST_LOG ?? 'silent' });

/** A real HTTP backend. */
export interface Backend {
  server: http.Server;
  url: string;
  port: number;
  /** Close it now (a test taking its upstream away); teardown does it anyway, and a second close is harmless. */
  close(): Promise<void>;
}

/** A real HTTP backend on 127.0.0.1:0, closed when `t` ends. */
export async function startBackend(t: Teardown, handler: http.RequestListener = echo): Promise<Backend> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  t.teardown(close);
  return { server, port, url: `http://127.0.0.1:${port}`, close };
}

/** Echo the request as JSON: method, url, headers, body. */
export function echo(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-backend': 'echo' });
    res.end(body);
  });
}

/**
 * A gateway from an inline config, listening on port 0 (admin too when configured), closed
 * (100 ms grace) when `t` ends. Closing it earlier in the test is fine: `close` is idempotent.
 */
export async function startGateway(
  t: Teardown,
  config: Record<string, any>,
  opts: { cwd?: string } = {},
): Promise<{ gw: Gateway; url: string; port: number; adminUrl?: string }> {
  const cfg: Record<string, any> = { ...config, server: { http: { port: 0, host: '127.0.0.1' }, ...(config.server ?? {}) } };
  if (cfg.admin) cfg.admin = { port: 0, ...cfg.admin };
  const gw = await createGateway({ config: cfg, logger: testLogger(), cwd: opts.cwd });
  t.teardown(() => gw.close(100));
  await gw.listen();
  const port = gw.addresses.http?.port ?? gw.addresses.https!.port;
  return {
    gw,
    port,
    url: `http://127.0.0.1:${port}`,
    adminUrl: gw.addresses.admin ? `http://127.0.0.1:${gw.addresses.admin.port}` : undefined,
  };
}

/** One HTTP request without connection reuse; resolves with status, headers and body text. */
export function request(
  url: string,
  opts: http.RequestOptions & { body?: string | Buffer } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Send raw bytes and collect everything until the server closes or `ms` passes. */
export function raw(port: number, data: string | Buffer, ms = 1500): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(t);
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const t = setTimeout(done, ms);
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', done);
    sock.on('error', done);
    sock.write(data);
  });
}

/** A pino logger whose JSON lines are kept for assertions (`level`: the lowest kept). */
export function captureLogger(level = 'info'): { logger: pino.Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/**
 * A gateway that forwards every path to `backend` (upstream `be`, access log off), closed when
 * `t` ends. `server` is merged into the config's server block.
 */
export function gatewayFor(
  t: Teardown,
  backend: { url: string },
  server: Record<string, any> = {},
): Promise<{ gw: Gateway; url: string; port: number }> {
  return startGateway(t, {
    server,
    log: { accessLog: false },
    upstreams: { be: { targets: [backend.url] } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
}

/** A port that was free a moment ago and has nothing listening on it now. */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
