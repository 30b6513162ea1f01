import type { RequestContext } from '../pipeline/request-context';
import type { Target } from './target';

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
