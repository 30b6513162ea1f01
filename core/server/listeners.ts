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
  const send = cfg.timeouts.send;
  if (send > 0) {
    // Node's socket idle timer (one per connection: no per-request cost) ticks the send
    // timeout. Short ticks, because net skips a tick in which a pending write made progress.
    // Idle keep-alive sockets are told apart by their timer (Node sets it to keepAlive): never the tick's value.
    const every = Math.max(10, Math.min(1000, Math.floor(send / 4)));
    const tick = every === cfg.timeouts.keepAlive ? every - 1 : every;
    s.timeout = tick;
    s.on('timeout', sendTimeout(send, tick));
  }
}

const STALL = Symbol('gatehouse.sendStall');
type TimedSocket = Socket & { _httpMessage?: unknown; [STALL]?: { since: number; last: number } };

/**
 * The server's 'timeout' listener. With a listener Node no longer closes timed-out sockets
 * itself, so this decides: Node's keep-alive timer (the only other value it sets) closes the
 * idle connection as Node would; a socket with bytes waiting for a client that reads nothing
 * is closed once it has made no progress for `send` ms (nginx's send_timeout; the upstream
 * request goes with it); anything else (no request yet, left to the headers timeout, or a
 * response with nothing pending, as while a long-poll upstream is silent) is left alone.
 */
function sendTimeout(send: number, tick: number): (socket: Socket) => void {
  return function onSocketTimeout(sock: Socket) {
    const socket = sock as TimedSocket;
    if (!socket._httpMessage) {
      if (socket.timeout !== tick) socket.destroy();
      return;
    }
    if (socket.writableLength === 0) return;
    // Every tick emitted here had no write progress (net suppresses the others); a stall is
    // a run of them a tick apart, since we re-arm the timer. Its start is known to within a tick.
    const now = Date.now();
    const stall = socket[STALL];
    if (!stall || now - stall.last > tick * 1.5) socket[STALL] = { since: now - tick, last: now };
    else if (now - stall.since >= send) return void socket.destroy();
    else stall.last = now;
    socket.setTimeout(tick);
  };
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
