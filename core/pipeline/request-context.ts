import { STATUS_CODES, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Context, ForwardOptions } from './context';
import { answerError, asGatehouseError, GatehouseError, isReported, markReported, rawJsonAnswer } from '../errors';
import { bodyTooLarge, DEFAULT_BODY_LIMIT, parseFormBody, parseJsonBody, readRequestBody, type ReadBodyOptions } from './body';
import type { StateKey } from './state';
import type { Target, UpstreamPool } from '../upstream/pool';
import type { Waiter } from '../upstream/queue';

/** Plugin hooks run around the upstream exchange, guarded (core/plugin/guard.ts). */
export interface ProxyHooks {
  /** Each returns false when its plugin failed and the request was answered: stop there. */
  readonly onProxyRequest: readonly ((ctx: RequestContext, proxyReq: ClientRequest) => boolean)[];
  /** Each returns false when its plugin failed and the request was answered: stop there. */
  readonly onProxyResponse: readonly ((ctx: RequestContext, proxyRes: IncomingMessage) => boolean)[];
  /** Throw or reject with the GatehouseError to answer with when their plugin failed. */
  readonly interceptResponse: readonly ((ctx: RequestContext, proxyRes: IncomingMessage) => boolean | void | Promise<boolean | void>)[];
}
const NO_HOOKS: ProxyHooks = { onProxyRequest: [], onProxyResponse: [], interceptResponse: [] };

/** The header naming the cluster worker that answered (`server.workerHeader`); error answers keep it too. */
export const WORKER_HEADER = 'gatehouse-worker';

function cut(res: ServerResponse): void {
  res.destroy();
}

/** Everything known about a request when its context is made. */
export interface ContextInit {
  req: IncomingMessage;
  res: ServerResponse | undefined;
  socket: Duplex;
  method: string;
  path: string;
  /** Query string including its leading `?`, or ''. */
  search: string;
  host: string;
  peerIp: string;
  clientIp: string;
  /** Whether the TCP peer is a trusted proxy (its X-Forwarded-* are kept). */
  peerTrusted: boolean;
  secure: boolean;
  routeName: string;
  upstreamPath: string;
  log: Logger;
  upstream: string | undefined;
  /** Core's implementation of {@link Context.forward}. */
  forward: (ctx: RequestContext, options: ForwardOptions) => Promise<void>;
}

/** The concrete {@link Context}; core-only fields live here, not in the public type. */
export class RequestContext implements Context {
  private stateBag?: Record<string, unknown> = undefined;
  upstream?: string;
  target?: string;
  upstreamPath: string;
  /** Upstream actually used (for logs and metrics). */
  upstreamUsed = '';
  /** Set when the upstream idle timer fired, so the error maps to 504. */
  upstreamTimedOut = false;
  /** Proxy hooks of the matched route's plugins. */
  proxyHooks: ProxyHooks = NO_HOOKS;
  /** The route has response interceptors, so core holds the response head for them. */
  intercepting = false;
  /** The current upstream request is core's own (ctx.forward), without the client's body. */
  bodyless = false;
  /** The client body's framing as Node parsed it, before plugins ran: what core sends upstream (framing.ts). */
  readonly bodyLength: string | undefined;
  readonly bodyCoding: string | undefined;
  /** First bytes after an upgrade request's headers (WebSockets only). */
  head?: Buffer;
  /** Idle timeout on the upstream socket for this request (0: none). */
  upstreamTimeoutMs = 0;
  /** The upstream request under way, destroyed if the client leaves first. */
  proxyReq?: ClientRequest = undefined;
  /** WebSocket upgrades: the status the client got (101 once switched), for logs and metrics. */
  upgradeStatus = 0;
  /** WebSocket upgrades: ms from taking the target to its answer (101 or a refusal), the latency sample; -1: none. */
  upgradeMs = -1;
  /** A plugin's failure was answered (or the connection is being cut) by its guard: nothing more to write. */
  pluginFailed = false;
  /** The upstream target this request holds a slot of (released when the response closes). */
  picked?: Target = undefined;
  pickedPool?: UpstreamPool = undefined;
  /** performance.now() when the target was taken (its latency EWMA). */
  pickedAt = 0;
  /** The upstream's answer status, -1 when the exchange failed, 0 before any (passive health). */
  upstreamStatus = 0;
  /** Retries so far, and the targets tried (made on the first retry). */
  retries = 0;
  tried?: Target[] = undefined;
  /** Its place in the upstream's queue while it waits for a slot. */
  waiting?: Waiter = undefined;
  /** Its deadline in epoch ms from X-Request-Deadline / X-Request-Timeout (0: none). */
  deadline = 0;
  /** Resolves the forwarding promise(s) when the client response closes. */
  settle?: () => void = undefined;
  private done = false;

  readonly req: IncomingMessage;
  readonly res: ServerResponse | undefined;
  readonly socket: Duplex;
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly peerIp: string;
  readonly clientIp: string;
  readonly peerTrusted: boolean;
  readonly secure: boolean;
  readonly routeName: string;
  readonly log: Logger;
  readonly upgrade: boolean;
  private readonly search: string;

  constructor(init: ContextInit) {
    this.req = init.req;
    this.res = init.res;
    this.socket = init.socket;
    this.method = init.method;
    this.path = init.path;
    this.search = init.search;
    this.host = init.host;
    this.peerIp = init.peerIp;
    this.clientIp = init.clientIp;
    this.peerTrusted = init.peerTrusted;
    this.secure = init.secure;
    this.routeName = init.routeName;
    this.upstreamPath = init.upstreamPath;
    this.log = init.log;
    this.upstream = init.upstream;
    this.upgrade = init.res === undefined;
    this.bodyLength = init.req.headers['content-length'];
    this.bodyCoding = init.req.headers['transfer-encoding'];
    this.forwarder = init.forward;
  }

  private readonly forwarder: ContextInit['forward'];

  forward(options: ForwardOptions): Promise<void> {
    return this.forwarder(this, options);
  }

  /** Made on first use: most requests pass through plugins that keep no state. */
  get state(): Record<string, unknown> {
    this.stateBag ??= {};
    return this.stateBag;
  }

  private keyed?: Map<StateKey<unknown>, unknown> = undefined;

  get<T>(key: StateKey<T>): T | undefined {
    return this.keyed?.get(key) as T | undefined;
  }

  set<T>(key: StateKey<T>, value: T): void {
    (this.keyed ??= new Map()).set(key, value);
  }

  /** The body once a plugin read it: forwarded from here, since the request stream is spent. */
  body?: Buffer = undefined;
  private reading?: Promise<Buffer> = undefined;

  readBody(options: ReadBodyOptions = {}): Promise<Buffer> {
    const limit = options.limit ?? DEFAULT_BODY_LIMIT;
    this.reading ??= readRequestBody(this.req, this.res, limit).then((b) => (this.body = b));
    // A later reader with a smaller limit than the first one's still gets its 413.
    return this.reading.then((b) => (b.length > limit ? Promise.reject(bodyTooLarge(this.res, limit)) : b));
  }

  async readJson<T = unknown>(options?: ReadBodyOptions): Promise<T> {
    return parseJsonBody(await this.readBody(options), this.req.headers['content-type']) as T;
  }

  async readForm(options?: ReadBodyOptions): Promise<URLSearchParams> {
    return parseFormBody(await this.readBody(options), this.req.headers['content-type']);
  }

  private parsedQuery?: URLSearchParams;

  get query(): URLSearchParams {
    // Parsed lazily: most requests are forwarded without anyone reading the query.
    this.parsedQuery ??= new URLSearchParams(this.search);
    return this.parsedQuery;
  }

  get answered(): boolean {
    return this.done || (this.res ? this.res.headersSent : this.socket.destroyed);
  }

  /** Mark the request as taken over by the proxy. */
  markAnswered(): void {
    this.done = true;
  }

  send(status: number, body: string | Buffer = '', headers: OutgoingHttpHeaders = {}): void {
    if (this.answered) return;
    this.done = true;
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    if (this.res) {
      this.res.writeHead(status, { 'content-length': buf.length, ...headers });
      this.res.end(this.method === 'HEAD' ? undefined : buf);
      return;
    }
    // WebSocket upgrade refused or answered by a plugin: write a plain HTTP answer and close.
    this.upgradeStatus = status;
    const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, `content-length: ${buf.length}`, 'connection: close'];
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) lines.push(`${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
    this.socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), buf]));
  }

  /**
   * The one writer of error answers: the JSON error while nothing was sent (also after the
   * proxy took over), a raw JSON answer on an upgrade socket, or the connection cut once a head
   * is out (a tick later, so what was written still goes). Logged once: 4xx at debug (the
   * client's mistake), 5xx at error, unless a plugin's guard logged it already.
   */
  fail(err: unknown, headers?: Record<string, string>): GatehouseError {
    const e = asGatehouseError(err);
    if (!isReported(err)) {
      markReported(e);
      this.log[e.status < 500 ? 'debug' : 'error'](
        { err: err instanceof GatehouseError ? err : (e.cause ?? err), code: e.code, route: this.routeName || undefined, path: this.path },
        e.message,
      );
    }
    this.done = true;
    const res = this.res;
    if (res) {
      if (res.destroyed || res.writableEnded) return e;
      if (res.headersSent) setImmediate(cut, res);
      else {
        // What a plugin (or a failed head) stored is not this answer's: a stale Content-Length,
        // Transfer-Encoding or Content-Encoding would garble it. The worker's name is core's own.
        const worker = res.getHeader(WORKER_HEADER);
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        if (worker !== undefined) res.setHeader(WORKER_HEADER, worker);
        answerError(res, e, headers);
      }
      return e;
    }
    if (this.upgradeStatus === 0 && this.socket.writable) {
      this.upgradeStatus = e.status;
      this.socket.end(rawJsonAnswer(e, headers));
    } else this.socket.destroy();
    return e;
  }

  json(status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
    this.send(status, JSON.stringify(value), { 'content-type': 'application/json; charset=utf-8', ...headers });
  }
}
