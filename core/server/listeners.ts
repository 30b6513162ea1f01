import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { rawJsonAnswer, type ErrorCode } from '../errors';
import type { GatehouseConfig } from '../config/types';

/**
 * Options of the http and https listeners. Node enforces `headers` and `request` timeouts
 * only when it checks its connections, every 30 s by default: checking every second (or
 * more often for shorter timeouts) makes the configured values hold to within a second.
 */
export function serverOptions(cfg: GatehouseConfig['server']): http.ServerOptions {
  const { headers, request } = cfg.timeouts;
  const checkEvery = Math.max(50, Math.min(1000, (headers || 2000) / 2, (request || 2000) / 2));
  return { maxHeaderSize: cfg.maxHeaderSize, requireHostHeader: false, connectionsCheckingInterval: checkEvery };
}

/** Apply the configured client timeouts (safe defaults come from the schema). */
export function applyServerLimits(s: http.Server, cfg: GatehouseConfig['server']): void {
  s.headersTimeout = cfg.timeouts.headers;
  s.requestTimeout = cfg.timeouts.request;
  s.keepAliveTimeout = cfg.timeouts.keepAlive;
}

/** Resolve with the bound address once listening. */
export function listen(s: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => {
      s.off('error', reject);
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
