import type { IncomingMessage, ServerResponse } from 'node:http';
import { LRUCache } from 'lru-cache';
import { GatehouseError } from '../errors';
import { normalizeIp } from '../net/ip';

/** Wrong admin tokens one client address may present per window before it is refused with 429. */
export const AUTH_FAILURE_LIMIT = 10;
/** The window of {@link AUTH_FAILURE_LIMIT}: counted from an address's first failure. */
export const AUTH_FAILURE_WINDOW_MS = 60_000;

interface Window {
  count: number;
  resetAt: number;
}

/**
 * Failed admin-token attempts by client address (the bearer token of the admin API and the
 * dashboard's login form), so that the token cannot be guessed at line rate: past the limit,
 * every attempt from that address, right or wrong, is refused until its window ends. A missing
 * token is not an attempt (a scraper without one is misconfigured, not guessing). Bounded
 * memory: the least recently seen of at most 10,000 addresses are forgotten first.
 */
export class AuthFailures {
  private readonly windows = new LRUCache<string, Window>({ max: 10_000 });
  /** Requests whose failure is counted already (the router may check one request twice). */
  private readonly counted = new WeakSet<IncomingMessage>();

  constructor(
    private readonly limit = AUTH_FAILURE_LIMIT,
    private readonly windowMs = AUTH_FAILURE_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Refuse a request from an address over the limit: `Retry-After` set on `res`, then
   * GH_ERR_AUTH_LOCKED thrown (the admin router writes it).
   */
  refuseIfLocked(req: IncomingMessage, res: ServerResponse): void {
    const w = this.windows.get(addressOf(req));
    if (!w || w.count < this.limit) return;
    const left = w.resetAt - this.now();
    if (left <= 0) return;
    const seconds = Math.ceil(left / 1000);
    res.setHeader('retry-after', String(seconds));
    throw new GatehouseError('GH_ERR_AUTH_LOCKED', `Too many wrong admin tokens from this address; try again in ${seconds} s`);
  }

  /** Count one wrong token presented by `req` (once per request). */
  fail(req: IncomingMessage): void {
    if (this.counted.has(req)) return;
    this.counted.add(req);
    const ip = addressOf(req);
    const now = this.now();
    const w = this.windows.get(ip);
    if (!w || w.resetAt <= now) this.windows.set(ip, { count: 1, resetAt: now + this.windowMs });
    else w.count++;
  }
}

function addressOf(req: IncomingMessage): string {
  return normalizeIp(req.socket.remoteAddress);
}
