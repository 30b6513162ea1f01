import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import { GatehouseError } from '../errors';
import type { RequestContext } from '../pipeline/request-context';
import type { Target, UpstreamPool } from '../upstream/pool';

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'upgrade'];
const CTX = Symbol('gatehouse.ctx');

type WithCtx = IncomingMessage & { [CTX]?: RequestContext };

/** Per-request hooks called from http-proxy's events. */
export interface ForwardHooks {
  onProxyRequest(ctx: RequestContext, proxyReq: ClientRequest): void;
  onProxyResponse(ctx: RequestContext, proxyRes: IncomingMessage): void;
  onUpstreamError(ctx: RequestContext, kind: 'connect' | 'timeout' | 'reset' | 'aborted'): void;
}

function connectionTokens(value: string | string[] | number | undefined): string[] {
  if (value === undefined) return [];
  return String(value).split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

/**
 * Hop-by-hop header names present in `headers` (checked by presence first: most messages
 * carry none, and this runs twice per request). An upgrade keeps Connection and Upgrade.
 */
function hopByHopPresent(headers: NodeJS.Dict<string | string[] | number>, upgrading: boolean): string[] {
  const found: string[] = [];
  for (const h of HOP_BY_HOP) if (headers[h] !== undefined && !(upgrading && (h === 'connection' || h === 'upgrade'))) found.push(h);
  if (headers.connection !== undefined) {
    for (const t of connectionTokens(headers.connection)) if (headers[t] !== undefined && !(upgrading && t === 'upgrade') && !found.includes(t)) found.push(t);
  }
  return found;
}

function stripHopByHop(headers: NodeJS.Dict<string | string[] | number>, upgrading: boolean): void {
  for (const h of hopByHopPresent(headers, upgrading)) delete headers[h];
}

/** A catalogued error as the JSON answer (the context's own `json` is closed once the proxy took over). */
function answerError(res: ServerResponse, e: GatehouseError): void {
  const body = JSON.stringify(e.toJSON());
  res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The target as http-proxy wants it, with the request's path appended. */
function targetFor(t: Target) {
  const u = t.url;
  return { protocol: u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol, host: u.hostname, hostname: u.hostname, port: u.port || (u.protocol === 'https:' || u.protocol === 'wss:' ? 443 : 80), path: u.pathname === '/' ? '' : u.pathname };
}

/**
 * The one place that talks to http-proxy. It adds X-Forwarded-*, strips hop-by-hop
 * headers, maps failures to 502/504, and releases the upstream socket as soon as the
 * client goes away (http-proxy alone leaks it on Node >= 15.5).
 */
export class Forwarder {
  private readonly proxy = httpProxy.createProxyServer({ xfwd: false, ws: true });

  constructor(private readonly hooks: ForwardHooks) {
    this.proxy.on('proxyReq', (proxyReq, req, res) => this.prepare(proxyReq, req as WithCtx, res as ServerResponse));
    this.proxy.on('proxyReqWs', (proxyReq, req) => this.prepare(proxyReq, req as WithCtx, undefined));
    this.proxy.on('proxyRes', (proxyRes, req, res) => {
      const ctx = (req as WithCtx)[CTX];
      // An upstream that dies mid-body must not leave the client waiting for bytes that never come.
      proxyRes.once('close', () => {
        if (!proxyRes.complete && !res.destroyed) {
          if (ctx) this.hooks.onUpstreamError(ctx, 'reset');
          res.destroy();
        }
      });
      stripHopByHop(proxyRes.headers, false);
      if (!ctx) return;
      this.hooks.onProxyResponse(ctx, proxyRes);
      if (ctx.intercepting) void this.intercept(ctx, proxyRes, res);
    });
    // Errors are handled per call (callbacks below); this keeps a stray one from crashing the process.
    this.proxy.on('error', () => undefined);
  }

  private prepare(proxyReq: ClientRequest, req: WithCtx, res: ServerResponse | undefined): void {
    const ctx = req[CTX];
    if (!ctx) return;
    const upgrading = res === undefined;
    // The outgoing headers are a copy of the client's: only names the client sent need removing.
    for (const h of hopByHopPresent(req.headers, upgrading)) proxyReq.removeHeader(h);
    if (ctx.bodyless) {
      proxyReq.removeHeader('content-length');
      proxyReq.removeHeader('transfer-encoding');
    }
    const prior = req.headers['x-forwarded-for'];
    const trusted = ctx.peerTrusted;
    proxyReq.setHeader('x-forwarded-for', trusted && prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${ctx.peerIp}` : ctx.peerIp);
    proxyReq.setHeader('x-forwarded-proto', (trusted && (req.headers['x-forwarded-proto'] as string)) || (ctx.secure ? 'https' : 'http'));
    proxyReq.setHeader('x-forwarded-host', (trusted && (req.headers['x-forwarded-host'] as string)) || req.headers.host || '');
    if (res) {
      const release = (): void => {
        if (!res.writableFinished && !proxyReq.destroyed) {
          this.hooks.onUpstreamError(ctx, 'aborted');
          proxyReq.destroy();
        }
      };
      res.once('close', release);
      if (ctx.upstreamTimeoutMs) {
        proxyReq.setTimeout(ctx.upstreamTimeoutMs, () => {
          ctx.upstreamTimedOut = true;
          proxyReq.destroy();
        });
      }
    }
    this.hooks.onProxyRequest(ctx, proxyReq);
  }

  /**
   * Forward an HTTP request; resolves when the response has ended or failed.
   * `internal` sends a body-less request of its own (ctx.forward), not the client's.
   */
  web(ctx: RequestContext, pool: UpstreamPool, target: Target, internal?: { path: string; method: string }): Promise<void> {
    const req = ctx.req as WithCtx;
    const res = ctx.res as ServerResponse;
    req[CTX] = ctx;
    req.url = internal?.path ?? ctx.upstreamPath;
    ctx.markAnswered();
    ctx.upstreamTimeoutMs = pool.config.timeout;
    ctx.intercepting = !internal && ctx.proxyHooks.interceptResponse.length > 0;
    ctx.bodyless = internal !== undefined;
    return new Promise((resolve) => {
      res.once('close', resolve);
      this.proxy.web(req, res, {
        target: targetFor(target) as never,
        agent: target.agent,
        changeOrigin: pool.config.changeOrigin,
        secure: !pool.config.insecure,
        proxyTimeout: 0,
        selfHandleResponse: ctx.intercepting,
        ...(internal ? { method: internal.method, buffer: Readable.from([]) } : {}),
      }, (err: NodeJS.ErrnoException) => this.fail(ctx, err));
    });
  }

  /** Let interceptors claim the response; otherwise write it through as http-proxy would. */
  private async intercept(ctx: RequestContext, proxyRes: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      for (const claim of ctx.proxyHooks.interceptResponse) if ((await claim(ctx, proxyRes)) === true) return;
    } catch (err) {
      proxyRes.resume();
      const e = err instanceof GatehouseError ? err : new GatehouseError('GH_ERR_PLUGIN_FAILED', (err as Error).message, { cause: err });
      if (!res.headersSent) answerError(res, e);
      else res.destroy();
      return;
    }
    if (res.headersSent || res.destroyed) {
      proxyRes.resume();
      return;
    }
    for (const [k, v] of Object.entries(proxyRes.headers)) if (v !== undefined) res.setHeader(k, v);
    res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage);
    proxyRes.pipe(res);
  }

  /** Forward a WebSocket upgrade; the socket is piped both ways by http-proxy. */
  ws(ctx: RequestContext, pool: UpstreamPool, target: Target, head: Buffer): void {
    const req = ctx.req as WithCtx;
    req[CTX] = ctx;
    req.url = ctx.upstreamPath;
    ctx.markAnswered();
    this.proxy.ws(req, ctx.socket, head, {
      target: targetFor(target) as never,
      changeOrigin: pool.config.changeOrigin,
      secure: !pool.config.insecure,
    }, (err: NodeJS.ErrnoException) => {
      this.hooks.onUpstreamError(ctx, err.code === 'ECONNREFUSED' ? 'connect' : 'reset');
      (ctx.socket as Duplex).destroy();
    });
  }

  private fail(ctx: RequestContext, err: NodeJS.ErrnoException): void {
    const res = ctx.res as ServerResponse;
    if (res.destroyed || (res.writableEnded && !res.headersSent)) return; // client left; counted as aborted
    const kind = ctx.upstreamTimedOut ? 'timeout' : err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH' ? 'connect' : 'reset';
    this.hooks.onUpstreamError(ctx, kind);
    if (res.headersSent) {
      // The body was under way: the only honest signal left is to cut the connection.
      res.destroy();
      return;
    }
    const e = kind === 'timeout'
      ? new GatehouseError('GH_ERR_UPSTREAM_TIMEOUT', `Upstream "${ctx.upstreamUsed}" did not answer within its timeout`)
      : new GatehouseError('GH_ERR_UPSTREAM_UNREACHABLE', `Upstream "${ctx.upstreamUsed}" failed: ${err.code ?? err.message}`);
    answerError(res, e);
  }

  close(): void {
    this.proxy.close();
  }
}
