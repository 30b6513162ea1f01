import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { GatehouseError, rawJsonAnswer, type ErrorCode } from '../errors';
import type { GatehouseConfig } from '../config/types';

/** Apply the configured client timeouts (safe defaults come from the schema). */
export function applyServerLimits(s: http.Server, cfg: GatehouseConfig['server']): void {
  s.headersTimeout = cfg.timeouts.headers;
  s.requestTimeout = cfg.timeouts.request;
  s.keepAliveTimeout = cfg.timeouts.keepAlive;
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

/** Map Node's parser errors to catalogued answers, so a malformed request gets a 4xx and never an upstream. */
export function clientErrorHandler(log: Logger): (err: NodeJS.ErrnoException, socket: Duplex) => void {
  return function onClientError(err, socket) {
    const code = err.code ?? '';
    if (code === 'ECONNRESET' || !socket.writable || (socket as Socket).bytesWritten > 0) {
      socket.destroy();
      return;
    }
    const kind: ErrorCode =
      code === 'HPE_HEADER_OVERFLOW' ? 'GH_ERR_HEADERS_TOO_LARGE'
        : code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT' ? 'GH_ERR_REQUEST_TIMEOUT'
          : 'GH_ERR_BAD_REQUEST';
    log.debug({ code, reason: err.message }, 'malformed request refused');
    socket.end(rawJsonAnswer(kind, kind === 'GH_ERR_BAD_REQUEST' ? `Malformed request (${code || err.message})` : undefined));
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
