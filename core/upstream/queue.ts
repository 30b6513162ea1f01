import type { RequestContext } from '../pipeline/request-context';
import type { Target } from './target';
import { GatehouseError } from '../errors';

/** A request waiting for a target slot. */
export interface Waiter {
  readonly ctx: RequestContext;
  /** With a target (its slot taken), or undefined when the client left. */
  readonly resolve: (t: Target | undefined) => void;
  readonly reject: (err: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  prev: Waiter | undefined;
  next: Waiter | undefined;
  queued: boolean;
}

/**
 * First in, first out, with removal from anywhere in O(1): a client that leaves takes its
 * request out at once, wherever it waits (a linked list, so no scan and no holes).
 */
export class WaitQueue {
  head: Waiter | undefined = undefined;
  private tail: Waiter | undefined = undefined;
  size = 0;

  /**
   * Queue the request: resolved by whoever gives it a slot, or rejected at the queue timeout
   * (503) or at its deadline if that comes first (504).
   */
  wait(ctx: RequestContext, upstream: string, timeoutMs: number): Promise<Target | undefined> {
    return new Promise((resolve, reject) => {
      const w: Waiter = { ctx, resolve, reject, timer: undefined, prev: undefined, next: undefined, queued: false };
      const left = ctx.deadline === 0 ? Infinity : ctx.deadline - Date.now();
      const byDeadline = left < timeoutMs;
      w.timer = setTimeout(
        () => {
          this.remove(w);
          ctx.waiting = undefined;
          reject(
            byDeadline
              ? deadlineError({ name: upstream })
              : new GatehouseError('GH_ERR_UPSTREAM_QUEUE_TIMEOUT', `Upstream "${upstream}": no target was free within ${timeoutMs} ms`),
          );
        },
        Math.max(0, byDeadline ? left : timeoutMs),
      );
      this.push(w);
      ctx.waiting = w;
    });
  }

  push(w: Waiter): void {
    w.prev = this.tail;
    w.next = undefined;
    if (this.tail) this.tail.next = w;
    else this.head = w;
    this.tail = w;
    w.queued = true;
    this.size++;
  }

  /** Take `w` out (a no-op when it is not queued). */
  remove(w: Waiter): void {
    if (!w.queued) return;
    w.queued = false;
    if (w.prev) w.prev.next = w.next;
    else this.head = w.next;
    if (w.next) w.next.prev = w.prev;
    else this.tail = w.prev;
    w.prev = w.next = undefined;
    if (w.timer) clearTimeout(w.timer);
    w.timer = undefined;
    this.size--;
  }
}

/** The request's deadline in epoch ms from its headers (0: none, or unreadable). */
export function deadlineOf(ctx: RequestContext, absolute: string, relative: string): number {
  const h = ctx.req.headers;
  const abs = absolute === '' ? undefined : h[absolute];
  if (typeof abs === 'string') {
    const n = Number(abs);
    if (Number.isFinite(n) && n > 0) return n;
  }
  const rel = relative === '' ? undefined : h[relative];
  if (typeof rel === 'string') {
    const n = Number(rel);
    if (Number.isFinite(n) && n >= 0) return Date.now() + n;
  }
  return 0;
}

export function deadlineError(pool: { readonly name: string }): GatehouseError {
  return new GatehouseError(
    'GH_ERR_UPSTREAM_DEADLINE',
    `Upstream "${pool.name}": the request's deadline passed before a target could take it`,
  );
}
