import type { RequestContext } from '../pipeline/request-context';
import type { UpstreamConfig, RetryCause } from '../config/types';

/** Bodies up to this size are kept (read before forwarding) when retries are on, so that a retry can send them again. */
export const REPLAY_BUFFER_BYTES = 64 * 1024;

/** Retries every window allows whatever the share (Envoy's min_retry_concurrency is 3 too). */
const MIN_RETRIES = 3;
const WINDOW_MS = 10_000;

/** Methods that may be sent twice (RFC 9110 §9.2.2). */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** What went wrong with an attempt, as `retry.on` names it. */
export type AttemptFailure = 'connect' | 'timeout' | 'reset' | 502 | 503 | 504;

function causeOf(f: AttemptFailure): RetryCause {
  return f === 'connect' ? 'connect-failure' : typeof f === 'number' ? (String(f) as RetryCause) : f;
}

/**
 * Retries kept under a share of requests over a sliding pair of 10 s windows (Finagle's retry
 * budget), plus a few, so that retries never multiply the load on an upstream that is down.
 */
export class RetryBudget {
  private start = 0;
  private requests = 0;
  private retries = 0;
  private prevRequests = 0;
  private prevRetries = 0;

  constructor(private readonly percent: number) {}

  private roll(now: number): void {
    if (now - this.start < WINDOW_MS) return;
    const twoAgo = now - this.start >= 2 * WINDOW_MS;
    this.prevRequests = twoAgo ? 0 : this.requests;
    this.prevRetries = twoAgo ? 0 : this.retries;
    this.requests = 0;
    this.retries = 0;
    this.start = now;
  }

  /** A first attempt. */
  request(now: number): void {
    this.roll(now);
    this.requests++;
  }

  /** Take one retry from the budget, if it has one. */
  take(now: number): boolean {
    this.roll(now);
    const allowed = ((this.requests + this.prevRequests) * this.percent) / 100 + MIN_RETRIES;
    if (this.retries + this.prevRetries + 1 > allowed) return false;
    this.retries++;
    return true;
  }
}

/**
 * Whether the request may be tried again after `failure`, short of the budget and a free
 * other target: the cause is listed, attempts are left, nothing of the answer was sent, the
 * body (if any) is kept, and the method is idempotent or nothing was sent (a connect failure).
 */
export function mayRetry(ctx: RequestContext, retry: NonNullable<UpstreamConfig['retry']>, failure: AttemptFailure): boolean {
  if (ctx.upgrade || ctx.bodyless || ctx.retries >= retry.attempts) return false;
  if (!retry.on.includes(causeOf(failure))) return false;
  const res = ctx.res;
  if (!res || res.headersSent || res.destroyed) return false;
  // A streamed body is spent: only one kept in memory can be sent again.
  if (ctx.body === undefined && (ctx.bodyLength !== undefined || ctx.bodyCoding !== undefined)) return false;
  return failure === 'connect' || retry.nonIdempotent || IDEMPOTENT.has(ctx.method);
}

/** Whether the request's body should be kept before forwarding, so that a retry can send it again. */
export function shouldKeepBody(ctx: RequestContext, retry: NonNullable<UpstreamConfig['retry']>): boolean {
  if (ctx.body !== undefined || ctx.upgrade || ctx.bodyCoding !== undefined || ctx.bodyLength === undefined) return false;
  const n = Number(ctx.bodyLength);
  return n > 0 && n <= REPLAY_BUFFER_BYTES && (retry.nonIdempotent || IDEMPOTENT.has(ctx.method) || retry.on.includes('connect-failure'));
}
