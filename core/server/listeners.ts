import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { GatehouseError, rawJsonAnswer, type ErrorCode } from '../errors';
import type { GatehouseConfig } from '../config/types';

/**
 * Options of the http and https listeners. Node enforces `headers` and `request` timeouts
 * only when it checks its connections, every 30 s by default: checking every second (or every
 * half of the shortest of them) makes the configured values hold to within a second.
 */
export function serverOptions(cfg: GatehouseConfig['server']): http.ServerOptions {
  const { headers, request } = cfg.timeouts;
  const checkEvery = Math.max(50, Math.min(1000, (headers || 2000) / 2, (request || 2000) / 2));
  return { maxHeaderSize: cfg.maxHeaderSize, requireHostHeader: false, connectionsCheckingInterval: checkEvery };
}

/** Apply the configured client timeouts and limits (safe defaults come from the schema). */
export function applyServerLimits(s: http.Server, cfg: GatehouseConfig['server']): void {
  // One more than the limit, so that a request over it still shows in rawHeaders (framing.ts)
  // and Node builds req.headers from no more lines than that.
  s.maxHeadersCount = cfg.maxHeaderCount + 1;
  s.headersTimeout = cfg.timeouts.headers;
  s.requestTimeout = cfg.timeouts.request;
  s.keepAliveTimeout = cfg.timeouts.keepAlive;
  if (cfg.timeouts.send > 0) sweepStalledSends(s, cfg.timeouts.send);
}

const STALL = Symbol('gatehouse.sendStall');
type SweptSocket = Socket & { [STALL]?: { since: number; pending: number; written: number } };

/**
 * nginx's send_timeout: a connection whose answer has bytes waiting, and whose client has read
 * none of them for `send` ms, is closed (the upstream request goes with it, through the
 * response's close). A sweep over the server's open connections, every send/4 ms (at most 1 s),
 * costs nothing per request. No progress means neither the bytes waiting nor the bytes written
 * changed since the last sweep: a completed write shrinks the first, and the next one (after a
 * drain) grows the second. A connection with nothing waiting (idle, or a silent long-poll
 * upstream) is never cut by it.
 */
function sweepStalledSends(s: http.Server, send: number): void {
  const every = Math.max(10, Math.min(1000, Math.floor(send / 4)));
  const timer = setInterval(() => {
    const now = Date.now();
    for (const socket of ((s as Tracked)[OPEN] ?? []) as Set<SweptSocket>) {
      const pending = socket.writableLength;
      if (pending === 0) {
        socket[STALL] = undefined;
        continue;
      }
      const written = socket.bytesWritten;
      const stall = socket[STALL];
      if (!stall || stall.pending !== pending || stall.written !== written) socket[STALL] = { since: now, pending, written };
      else if (now - stall.since >= send) socket.destroy();
    }
  }, every);
  timer.unref();
  s.once('close', () => clearInterval(timer));
}

const OPEN = Symbol('gatehouse.openConnections');
type Tracked = { [OPEN]?: Set<Socket> };

/**
 * Keep the set of a server's open connections (one Set entry and one shared listener per
 * connection, nothing per request), for {@link closeUnusedConnections}. On an https server
 * these are the TLS sockets, once their handshake is done.
 */
export function trackConnections(s: http.Server, event: 'connection' | 'secureConnection'): void {
  (s as Tracked)[OPEN] = new Set();
  s.on(event, function track(this: http.Server, socket: Socket) {
    (this as Tracked)[OPEN]!.add(socket);
    socket.once('close', untrack);
  });
}

function untrack(this: Socket & { server?: Tracked }): void {
  this.server?.[OPEN]?.delete(this);
}

/**
 * Close the connections that have not sent a byte: `server.close()` waits for them, but
 * Node's own `closeIdleConnections` counts them as busy (from connect on, for its headers
 * timeout), and stops that timeout check once closing. They would hold a shutdown for its
 * whole grace, or forever where there is none (the admin listener). A client that connected
 * and sent nothing has been promised nothing; it reconnects, as after a keep-alive close.
 */
export function closeUnusedConnections(s: http.Server): void {
  for (const socket of (s as Tracked)[OPEN] ?? []) {
    if (socket.bytesRead === 0 && !(socket as Socket & { _httpMessage?: unknown })._httpMessage) socket.destroy();
  }
}

/**
 * Settle a queued (pipelined) response if its connection closes before Node hands it the
 * socket; once it has the socket, its own 'close' does (and this listener goes away).
 */
export function queuedResponse(socket: Socket, res: http.ServerResponse, settle: (lostInQueue: true) => void): void {
  const onSocketClose = (): void => {
    if (!res.socket) settle(true);
  };
  socket.once('close', onSocketClose);
  res.once('close', () => socket.off('close', onSocketClose));
}

const BIND_HINTS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another process, or another gatehouse listener, holds the port)',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'the host is not an address of this machine',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved (DNS unavailable)',
};

/** Resolve with the bound address once listening; a bind failure names the listener and the address (GH_ERR_LISTEN). */
export function listen(s: http.Server, port: number, host: string, name = 'http'): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'unknown';
      const why = BIND_HINTS[code] ?? err.message;
      reject(new GatehouseError('GH_ERR_LISTEN', `cannot open the ${name} listener on ${host}:${port}: ${why} (${code})`, { cause: err }));
    };
    s.once('error', fail);
    s.listen(port, host, () => {
      s.off('error', fail);
      resolve(s.address() as AddressInfo);
    });
  });
}

const REFUSING = Symbol('gatehouse.refusing');

/** Map Node's parser errors to catalogued answers, so a malformed request gets a 4xx and never an upstream. */
export function clientErrorHandler(log: Logger): (err: NodeJS.ErrnoException, socket: Duplex) => void {
  return function onClientError(err, socket) {
    const code = err.code ?? '';
    if (code === 'ECONNRESET' || !socket.writable || (socket as Socket).bytesWritten > 0) {
      socket.destroy();
      return;
    }
    const kind: ErrorCode =
      code === 'HPE_HEADER_OVERFLOW'
        ? 'GH_ERR_HEADERS_TOO_LARGE'
        : code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT'
          ? 'GH_ERR_REQUEST_TIMEOUT'
          : 'GH_ERR_BAD_REQUEST';
    log.debug({ code, reason: err.message }, 'malformed request refused');
    const answer = rawJsonAnswer(kind, kind === 'GH_ERR_BAD_REQUEST' ? `Malformed request (${code || err.message})` : undefined);
    // Malformed bytes pipelined behind a request still in flight: its answer goes first, or
    // the client would read this 400 as the answer to the request the upstream did serve.
    // (A request whose own body is malformed is not complete: it is refused at once.)
    const inFlight = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (inFlight && !inFlight.writableFinished && inFlight.req?.complete) {
      if (!(socket as Socket & { [REFUSING]?: true })[REFUSING]) {
        (socket as Socket & { [REFUSING]?: true })[REFUSING] = true;
        inFlight.once('finish', () => {
          if (socket.writable) socket.end(answer);
        });
        inFlight.once('close', () => {
          if (!inFlight.writableFinished) socket.destroy();
        });
      }
      return;
    }
    socket.end(answer);
  };
}

/** gatehouse is a reverse proxy, not a forward proxy: CONNECT is refused. */
export function refuseConnect(_req: http.IncomingMessage, socket: Duplex): void {
  socket.end(rawJsonAnswer('GH_ERR_METHOD_NOT_ALLOWED', 'CONNECT is not supported'));
}

/** The HTTP listener's answer when `redirectToHttps` is on: 308 to the same host and path on HTTPS. */
export function redirectToHttps(req: http.IncomingMessage, res: http.ServerResponse, httpsPort: number): void {
  const host = (req.headers.host ?? 'localhost').replace(/:\d+$/, '');
  res.writeHead(308, { location: `https://${host}${httpsPort === 443 ? '' : `:${httpsPort}`}${req.url ?? '/'}`, 'content-length': 0 });
  res.end();
}

/**
 * Stop accepting and let in-flight requests finish: idle keep-alive connections close as their
 * last response ends (swept every 25 ms), connections that sent nothing close at once, and after
 * `graceMs` whatever is left (upgraded sockets too) is cut. Resolves once every listener closed.
 */
export async function drainListeners(servers: readonly http.Server[], upgraded: ReadonlySet<Duplex>, graceMs: number): Promise<void> {
  const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  const sweep = setInterval(() => servers.forEach((s) => s.closeIdleConnections()), 25);
  for (const s of servers) {
    s.closeIdleConnections();
    closeUnusedConnections(s);
  }
  const timer = setTimeout(() => {
    for (const s of servers) s.closeAllConnections();
    for (const sock of upgraded) sock.destroy();
  }, graceMs);
  for (const sock of upgraded) sock.end();
  await closed;
  clearTimeout(timer);
  clearInterval(sweep);
}
