import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ReadBodyOptions } from './body';
import type { StateKey } from './state';
import type { GatehouseError } from '../errors';

/**
 * Per-request state shared by every middleware of one request.
 *
 * `res` is absent for WebSocket upgrades: middleware must answer through
 * {@link Context.send} / {@link Context.json}, which work for both kinds.
 */
export interface Context {
  readonly req: IncomingMessage;
  /** Absent on WebSocket upgrades. */
  readonly res?: ServerResponse;
  /** The raw client socket (the upgraded one for WebSockets). */
  readonly socket: Duplex;
  readonly method: string;
  /**
   * Path without the query string, normalised: dot segments resolved and escapes of unreserved
   * characters decoded (what routes matched and what the upstream gets unless rewritten).
   */
  readonly path: string;
  /** Parsed query string of the request. */
  readonly query: URLSearchParams;
  /** Host header without port, lower-cased. */
  readonly host: string;
  /** Address of the TCP peer (IPv4-mapped IPv6 is reduced to IPv4). */
  readonly peerIp: string;
  /** Client address after the trusted-proxy rules (`server.trustProxy`). */
  readonly clientIp: string;
  /** True when the client reached gatehouse over TLS. */
  readonly secure: boolean;
  /** Name of the matched route. */
  readonly routeName: string;
  /** Whether this is a WebSocket upgrade. */
  readonly upgrade: boolean;
  /** Path (and query) that will be sent upstream; rewrite it to change the upstream URL. */
  upstreamPath: string;
  /** Name of the upstream to forward to; plugins may change it. */
  upstream?: string;
  /** An explicit target URL; when set it wins over `upstream`. */
  target?: string;
  /** Free-form storage for plugins to pass data along the pipeline (prefer {@link Context.get} with a typed key). */
  readonly state: Record<string, unknown>;
  /** The value stored under a typed key for this request, if any. */
  get<T>(key: StateKey<T>): T | undefined;
  /** Store a value under a typed key for the rest of this request. */
  set<T>(key: StateKey<T>, value: T): void;
  /**
   * The request body as one Buffer (read once; later calls get the same bytes). Over
   * `limit` → 413 `GH_ERR_BODY_TOO_LARGE` (and the connection closes after the answer); a
   * client that stops sending → 408. A body read here is still forwarded upstream, from the
   * buffer, with its Content-Length.
   */
  readBody(options?: ReadBodyOptions): Promise<Buffer>;
  /** The body parsed as JSON: 415 `GH_ERR_UNSUPPORTED_MEDIA_TYPE` for another type, 400 `GH_ERR_BODY_INVALID` when malformed. */
  readJson<T = unknown>(options?: ReadBodyOptions): Promise<T>;
  /** The body as an HTML form (application/x-www-form-urlencoded): 415 for another type, 400 when malformed. */
  readForm(options?: ReadBodyOptions): Promise<URLSearchParams>;
  /** Request logger (child of the gateway logger, with a request id). */
  readonly log: Logger;
  /** True once a response has been started by any middleware or the proxy. */
  readonly answered: boolean;
  /** Answer the request directly (no upstream). */
  send(status: number, body?: string | Buffer, headers?: OutgoingHttpHeaders): void;
  /** Answer with a JSON body. */
  json(status: number, value: unknown, headers?: OutgoingHttpHeaders): void;
  /**
   * Answer with an error: `{"error": {code, status, message}}` for a GatehouseError (any other
   * value is a 500 `GH_ERR_INTERNAL`), or the connection cut if an answer already started.
   * Logged once, 4xx at debug and 5xx at error. Returns the error answered.
   */
  fail(err: unknown, headers?: Record<string, string>): GatehouseError;
  /**
   * Forward a new upstream request for this client and stream its answer back
   * (what nginx does for an X-Accel-Redirect). Headers already set on `res` are
   * kept unless the upstream answer sets its own. Resolves when the answer ends.
   */
  forward(options: ForwardOptions): Promise<void>;
}

/** Where {@link Context.forward} sends its request. */
export interface ForwardOptions {
  /** A declared upstream name… */
  upstream?: string;
  /** …or a base URL. */
  target?: string;
  /** Path and query to request. */
  path: string;
  /** Default: GET, without the client's body. */
  method?: string;
}

/** A Koa-style middleware: do work, optionally `await next()` to run the rest. */
export type Middleware = (ctx: Context, next: () => Promise<void>) => Promise<void> | void;
