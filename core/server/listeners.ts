import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { rawJsonAnswer, type ErrorCode } from '../errors';
import type { GatehouseConfig } from '../config/types';

/** Apply the configured client timeouts and limits (safe defaults come from the schema). */
export function applyServerLimits(s: http.Server, cfg: GatehouseConfig['server']): void {
  // One more than the limit, so that a request over it still shows in rawHeaders (framing.ts)
  // and Node builds req.headers from no more lines than that.
  s.maxHeadersCount = cfg.maxHeaderCount + 1;
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
      code === 'HPE_HEADER_OVERFLOW' ? 'GH_ERR_HEADERS_TOO_LARGE'
        : code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT' ? 'GH_ERR_REQUEST_TIMEOUT'
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
        inFlight.once('finish', () => { if (socket.writable) socket.end(answer); });
        inFlight.once('close', () => { if (!inFlight.writableFinished) socket.destroy(); });
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
