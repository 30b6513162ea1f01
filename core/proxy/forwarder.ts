import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import httpProxy from 'http-proxy';
import { ERRORS, GatehouseError } from '../errors';
import { answerFailure } from '../plugin/guard';
import type { RequestContext } from '../pipeline/request-context';
import type { Target, UpstreamPool } from '../upstream/pool';
import { countBodyBytes } from '../tuning/young-gc';
import { readsCounted } from '../tuning/read-buffer';
import { frameUpstream } from './framing';
import type { AttemptFailure } from '../upstream/retry';
import { clientHeaders, hopByHopPresent, stripHopByHop } from './hop-by-hop';

const CTX = Symbol('gatehouse.ctx');

/**
 * Headers that claim facts about the client or the hops before this one; from a peer that is
 * not a trusted proxy they are dropped (X-Forwarded-For/-Proto/-Host are replaced instead).
 */
const UNTRUSTED_DROP: ReadonlySet<string> = new Set([
  'forwarded',
  'x-real-ip',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-forwarded-ssl',
  'x-client-ip',
  'true-client-ip',
  'x-cluster-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-forwarded-scheme',
  'x-original-url',
  'x-rewrite-url',
]);

type WithCtx = IncomingMessage & { [CTX]?: RequestContext };
type ReqWithCtx = ClientRequest & { [CTX]?: RequestContext };

/** The upstream went silent for its timeout: a 504 (or a cut connection once the answer started). */
function upstreamTimedOut(this: ReqWithCtx): void {
  const ctx = this[CTX];
  if (ctx) ctx.upstreamTimedOut = true;
  this.destroy();
}

/**
 * A body chunk Node's parser copied out, counted towards `server.tuning.gcEveryMiB` (young-gc.ts):
 * request bodies going upstream, and answers from TLS upstreams (plain-HTTP upstream reads
 * are counted by read-buffer.ts).
 */
function countBodyChunk(chunk: Buffer): void {
  countBodyBytes(chunk.length);
}

/** Per-request hooks called from http-proxy's events. */
export interface ForwardHooks {
  onProxyRequest(ctx: RequestContext, proxyReq: ClientRequest): void;
  onProxyResponse(ctx: RequestContext, proxyRes: IncomingMessage): void;
  onUpstreamError(ctx: RequestContext, kind: 'connect' | 'timeout' | 'reset' | 'aborted'): void;
  /** The attempt failed before anything was answered: true when it is being retried (then nothing more to do). */
  retry(ctx: RequestContext, failure: AttemptFailure): boolean;
}

type FailureKind = 'connect' | 'timeout' | 'reset';

/** What an http-proxy error means for metrics and for the answer. */
function failureKind(err: NodeJS.ErrnoException, timedOut: boolean): FailureKind {
  if (timedOut) return 'timeout';
  return err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH' ? 'connect' : 'reset';
}

/** The catalogued error a client gets for a failed upstream exchange. */
function failureError(ctx: RequestContext, kind: FailureKind, err: NodeJS.ErrnoException): GatehouseError {
  return kind === 'timeout'
    ? new GatehouseError('GH_ERR_UPSTREAM_TIMEOUT', `Upstream "${ctx.upstreamUsed}" did not answer within its timeout`)
    : new GatehouseError('GH_ERR_UPSTREAM_UNREACHABLE', `Upstream "${ctx.upstreamUsed}" failed: ${err.code ?? err.message}`);
}

/** The target as http-proxy wants it, with the request's path appended. */
function targetFor(t: Target) {
  const u = t.url;
  return {
    protocol: u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol,
    host: u.hostname,
    hostname: u.hostname,
    port: u.port || (u.protocol === 'https:' || u.protocol === 'wss:' ? 443 : 80),
    path: u.pathname === '/' ? '' : u.pathname,
  };
}

/**
 * The one place that talks to http-proxy. It adds X-Forwarded-*, strips hop-by-hop
 * headers, maps failures to 502/504, and releases the upstream socket as soon as the
 * client goes away (http-proxy alone leaks it on Node >= 15.5).
 */
export class Forwarder {
  // No server-wide options: http-proxy copies them into every request's options.
  private readonly proxy = httpProxy.createProxyServer({});
  private readonly upstreamClosed: (this: WithCtx) => void;
  /** The request proxy.web is handling, taken by {@link source} (set and taken synchronously). */
  private pending: WithCtx | undefined = undefined;
  /**
   * http-proxy's `buffer` option: it pipes this into the upstream request right after
   * creating it, so the head is prepared before any byte of it is stored. Its own 'proxyReq'
   * event comes on 'socket', which is later than the body when the agent queues the request
   * (maxSockets reached: the head went out as copied, then changing it threw) and never when
   * the client sent `Expect`.
   */
  private readonly source = { pipe: (proxyReq: ClientRequest) => this.sendBody(proxyReq) };

  constructor(private readonly hooks: ForwardHooks) {
    this.proxy.on('proxyReqWs', (proxyReq, req) => this.prepare(proxyReq, req as WithCtx, undefined));
    const report = this.hooks;
    // One listener per upstream response, shared (no closure per request): an upstream that
    // dies mid-body must not leave the client waiting for bytes that never come.
    this.upstreamClosed = function upstreamClosed(this: WithCtx) {
      const ctx = this[CTX];
      if (!this.complete && ctx?.res && !ctx.res.destroyed) {
        report.onUpstreamError(ctx, 'reset');
        ctx.res.destroy();
      }
    };
    this.proxy.on('proxyRes', (proxyRes, req, res) => this.respond(proxyRes as WithCtx, (req as WithCtx)[CTX], res as ServerResponse));
    // Errors are handled per call (callbacks below); this keeps a stray one from crashing the process.
    this.proxy.on('error', () => undefined);
  }

  /** The upstream request was just created: prepare its head, then send the body (or none). */
  private sendBody(proxyReq: ClientRequest): ClientRequest {
    const req = this.pending;
    this.pending = undefined;
    const ctx = req?.[CTX];
    // Unreachable (web() sets both); an unprepared head must not go out.
    if (!req || !ctx) return proxyReq.destroy();
    this.prepare(proxyReq, req, ctx.res);
    // A plugin's onProxyRequest failed: its guard destroyed the request and answered the client.
    if (proxyReq.destroyed) return proxyReq;
    if (ctx.bodyless) proxyReq.end();
    else if (ctx.body) proxyReq.end(ctx.body);
    else req.pipe(proxyReq);
    return proxyReq;
  }

  private prepare(proxyReq: ClientRequest, req: WithCtx, res: ServerResponse | undefined): void {
    const ctx = req[CTX];
    if (!ctx) return;
    const upgrading = res === undefined;
    // The outgoing headers are a copy of the client's: only names the client sent need removing.
    for (const h of hopByHopPresent(req.headers, upgrading)) proxyReq.removeHeader(h);
    const prior = req.headers['x-forwarded-for'];
    const trusted = ctx.peerTrusted;
    // Other client-address headers are believed only from trusted proxies, like X-Forwarded-For.
    if (!trusted) {
      // One pass over the names the client sent. CGI-style backends read X_Forwarded_For as
      // X-Forwarded-For: names with `_` are dropped too (nginx drops them from everyone).
      for (const h in req.headers) if (UNTRUSTED_DROP.has(h) || h.indexOf('_') >= 0) proxyReq.removeHeader(h);
    }
    proxyReq.setHeader(
      'x-forwarded-for',
      trusted && prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${ctx.peerIp}` : ctx.peerIp,
    );
    proxyReq.setHeader('x-forwarded-proto', (trusted && (req.headers['x-forwarded-proto'] as string)) || (ctx.secure ? 'https' : 'http'));
    proxyReq.setHeader('x-forwarded-host', (trusted && (req.headers['x-forwarded-host'] as string)) || req.headers.host || '');
    if (!res) {
      // The status of an upgrade, for its access line: 101, or the upstream's refusal.
      // For the pool too: passive health and the latency EWMA see the answer, not the session's length.
      proxyReq.once('upgrade', () => {
        ctx.upgradeStatus = ctx.upstreamStatus = 101;
        ctx.upgradeMs = performance.now() - ctx.pickedAt;
      });
      proxyReq.once('response', (r: IncomingMessage) => {
        ctx.upgradeStatus = ctx.upstreamStatus = r.statusCode ?? 0;
        ctx.upgradeMs = performance.now() - ctx.pickedAt;
      });
    } else {
      // Released by the gateway's one 'close' listener if the client leaves first (see release()).
      ctx.proxyReq = proxyReq;
      if (ctx.upstreamTimeoutMs) {
        // The agent's socket timeout is the upstream timeout (core/upstream/agent.ts); Node
        // relays it to the request. A shared listener: no closure or timer per request.
        (proxyReq as ReqWithCtx)[CTX] = ctx;
        proxyReq.on('timeout', upstreamTimedOut);
      }
    }
    this.hooks.onProxyRequest(ctx, proxyReq);
    // Last, over http-proxy's copy and plugins alike: core frames what it sends.
    const body = !upgrading && !ctx.bodyless;
    let length = body ? ctx.bodyLength : undefined;
    let coding = body ? ctx.bodyCoding : undefined;
    // A body a plugin read (ctx.readBody) goes from the buffer, framed by its length, unless a
    // transfer coding besides chunked (still applied to the bytes) has to stay.
    if (body && ctx.body && (coding === undefined || coding.trim().toLowerCase() === 'chunked')) {
      length = String(ctx.body.length);
      coding = undefined;
    }
    frameUpstream(proxyReq, length, coding);
  }

  /**
   * Forward an HTTP request; resolves when the response has ended or failed.
   * `internal` sends a body-less request of its own (ctx.forward), not the client's.
   */
  web(ctx: RequestContext, pool: UpstreamPool, target: Target, internal?: { path: string; method: string }): Promise<void> {
    const req = ctx.req as WithCtx;
    const res = ctx.res as ServerResponse;
    ctx.markAnswered();
    // The client left while plugins were working: nothing to forward it to.
    if (res.closed) return Promise.resolve();
    req[CTX] = ctx;
    req.url = internal?.path ?? ctx.upstreamPath;
    ctx.upstreamTimeoutMs = pool.config.timeout;
    ctx.intercepting = !internal && ctx.proxyHooks.interceptResponse.length > 0;
    ctx.bodyless = internal !== undefined;
    const options = internal ? { ...this.optionsFor(pool, target), method: internal.method } : this.optionsFor(pool, target);
    return new Promise((resolve) => {
      // Settled by the gateway's 'close' listener; a ctx.forward after an intercepted answer settles both.
      const earlier = ctx.settle;
      ctx.settle = earlier
        ? () => {
            earlier();
            resolve();
          }
        : resolve;
      // Node has answered the client's `Expect: 100-continue` already; forwarded, it would make
      // Node store the upstream head in http.request(), before core could prepare it.
      if (req.headers.expect !== undefined) delete req.headers.expect;
      this.pending = req;
      try {
        this.proxy.web(req, res, options as never, (err: NodeJS.ErrnoException) => this.fail(ctx, err));
      } finally {
        this.pending = undefined;
      }
      // http-proxy has piped the body by now, so a listener changes nothing about its flow.
      if (!internal && !ctx.body && (req.headers['content-length'] || req.headers['transfer-encoding'])) req.on('data', countBodyChunk);
    });
  }

  private readonly options = new WeakMap<Target, Record<string, unknown>>();

  /** http-proxy options of a target, built once (http-proxy copies them per request). */
  private optionsFor(pool: UpstreamPool, target: Target): Record<string, unknown> {
    let o = this.options.get(target);
    if (!o) {
      // Responses are always written by respond(): one writeHead, hop-by-hop headers filtered.
      // Only what differs from http-proxy's defaults (xfwd, proxyTimeout off): it copies these per request.
      o = { target: targetFor(target), agent: target.agent, selfHandleResponse: true, buffer: this.source };
      if (pool.config.changeOrigin) o.changeOrigin = true;
      if (pool.config.insecure) o.secure = false;
      this.options.set(target, o);
    }
    return o;
  }

  /**
   * The client left before the upstream answer was complete: destroy the upstream request
   * now, or its socket stays busy until the upstream ends (http-proxy's leak on Node >= 15.5).
   * Called from the gateway's 'close' listener on the client response.
   */
  release(ctx: RequestContext): void {
    const proxyReq = ctx.proxyReq;
    if (proxyReq && !ctx.res!.writableFinished && !proxyReq.destroyed) {
      this.hooks.onUpstreamError(ctx, 'aborted');
      proxyReq.destroy();
    }
  }

  /** An upstream answer: plugin hooks and interceptors, then the answer written through. */
  private respond(proxyRes: WithCtx, ctx: RequestContext | undefined, res: ServerResponse): void {
    // Unreachable (web() marks every request); an answer for nobody is dropped.
    if (!ctx) return void proxyRes.resume();
    const status = proxyRes.statusCode ?? 0;
    ctx.upstreamStatus = status;
    // A 502-504 that `retry` covers goes to another target; this one is read and dropped.
    if (status >= 502 && status <= 504 && ctx.pickedPool?.config.retry !== undefined && this.hooks.retry(ctx, status as 502 | 503 | 504)) {
      proxyRes.resume();
      return;
    }
    proxyRes.on('close', this.upstreamClosed);
    proxyRes[CTX] = ctx;
    const hooked = ctx.proxyHooks.onProxyResponse.length > 0;
    // Plugins see (and may copy) the headers as the client would get them.
    if (hooked || ctx.intercepting) stripHopByHop(proxyRes.headers, false);
    if (hooked) this.hooks.onProxyResponse(ctx, proxyRes);
    if (ctx.intercepting) void this.intercept(ctx, proxyRes, res);
    else this.writeThrough(ctx, proxyRes, res);
  }

  /** Let interceptors claim the response; otherwise write it through. */
  private async intercept(ctx: RequestContext, proxyRes: IncomingMessage, res: ServerResponse): Promise<void> {
    // An onProxyResponse hook failed and answered already.
    if (res.headersSent || res.destroyed) return void proxyRes.resume();
    try {
      for (const claim of ctx.proxyHooks.interceptResponse) if ((await claim(ctx, proxyRes)) === true) return;
    } catch (err) {
      // The interceptors are guarded (core/plugin/guard.ts): err is a logged GatehouseError.
      proxyRes.resume();
      answerFailure(ctx, err);
      return;
    }
    this.writeThrough(ctx, proxyRes, res);
  }

  /** Status and filtered headers in one writeHead, then the body piped (backpressure applies). */
  private writeThrough(ctx: RequestContext, proxyRes: IncomingMessage, res: ServerResponse): void {
    if (res.headersSent || res.destroyed) {
      proxyRes.resume();
      return;
    }
    try {
      res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage || undefined, clientHeaders(proxyRes.headers) as never);
    } catch (err) {
      // A head Node refuses to send (a status outside 100-999, say) is the upstream's fault.
      // Nothing of it was sent (ctx.fail forgets what the failed attempt stored).
      proxyRes.resume();
      res.statusMessage = '';
      ctx.fail(
        new GatehouseError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${ERRORS.GH_ERR_UPSTREAM_BAD_RESPONSE.message}: ${(err as Error).message}`),
      );
      return;
    }
    proxyRes.pipe(res);
    // Reads through core's read buffer are counted there; TLS answers and stock sockets here.
    if (!readsCounted(proxyRes.socket)) proxyRes.on('data', countBodyChunk);
  }

  /** Forward a WebSocket upgrade; the socket is piped both ways by http-proxy. */
  ws(ctx: RequestContext, pool: UpstreamPool, target: Target, head: Buffer): void {
    const req = ctx.req as WithCtx;
    req[CTX] = ctx;
    req.url = ctx.upstreamPath;
    ctx.markAnswered();
    this.proxy.ws(
      req,
      ctx.socket,
      head,
      {
        target: targetFor(target) as never,
        changeOrigin: pool.config.changeOrigin,
        secure: !pool.config.insecure,
      },
      (err: NodeJS.ErrnoException) => {
        // The upstream request was destroyed by a failing plugin's guard, which answered.
        if (ctx.pluginFailed) return;
        const kind = failureKind(err, false);
        this.hooks.onUpstreamError(ctx, kind);
        // Nothing answered yet (no switch, no upstream refusal relayed): a 502 like any request's.
        ctx.fail(failureError(ctx, kind, err));
      },
    );
  }

  private fail(ctx: RequestContext, err: NodeJS.ErrnoException): void {
    // The upstream request was destroyed by a failing plugin's guard, which answers the client.
    if (ctx.pluginFailed) return;
    const res = ctx.res as ServerResponse;
    // The client left (counted as aborted), or the answer is complete: a plugin's failure was
    // answered and its upstream request destroyed (core/plugin/guard.ts).
    if (res.destroyed || res.writableEnded) return;
    const kind = failureKind(err, ctx.upstreamTimedOut);
    this.hooks.onUpstreamError(ctx, kind);
    if (ctx.pickedPool?.config.retry !== undefined && this.hooks.retry(ctx, kind)) return;
    // Once the body was under way, the only honest signal left is the cut connection.
    ctx.fail(failureError(ctx, kind, err));
  }

  close(): void {
    this.proxy.close();
  }
}
