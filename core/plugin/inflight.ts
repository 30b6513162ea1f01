import { bounded } from './guard';

/** The abort reason of in-flight work when the gateway shuts down (or its generation never served). */
export const SHUTDOWN = 'gatehouse shutting down';

/**
 * The plugins' in-flight work of one config generation (`scope.inflight`). Like an in-flight
 * request, a reload does not interrupt it: the retired generation's plugins stop only once it
 * has settled. Its signal aborts only when the gateway shuts down (or the generation is discarded
 * without ever serving); from then on it gets a bounded time to settle.
 */
export class InflightWork {
  private readonly controller = new AbortController();
  private readonly runs = new Set<Promise<void>>();
  private idle: (() => void)[] = [];
  private readonly off: () => void;

  constructor(shutdown: AbortSignal) {
    const abort = () => this.abort();
    if (shutdown.aborted) abort();
    shutdown.addEventListener('abort', abort, { once: true });
    // A gateway lives through many generations: each one's listener goes with it.
    this.off = () => shutdown.removeEventListener('abort', abort);
  }

  /** Run `work` with the shutdown signal, tracked until it settles; resolves or rejects as it does. */
  run<T>(work: (signal: AbortSignal) => Promise<T> | T): Promise<T> {
    const p = Promise.resolve().then(() => work(this.controller.signal));
    const tracked: Promise<void> = p
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.runs.delete(tracked);
        if (this.runs.size === 0) this.idle.splice(0).forEach((w) => w());
      });
    this.runs.add(tracked);
    return p;
  }

  /** Runs not settled yet. */
  get size(): number {
    return this.runs.size;
  }

  /** Whether the runs were told to end. */
  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  /** Tell every run to end (shutdown). */
  abort(): void {
    if (!this.controller.signal.aborted) this.controller.abort(SHUTDOWN);
  }

  /**
   * Wait until no run is left: without a bound while not aborted (a retired generation waits for
   * its work as for its requests), at most `timeoutMs` from the abort. True when all settled.
   */
  async settled(timeoutMs: number): Promise<boolean> {
    const empty = () => new Promise<void>((r) => (this.runs.size === 0 ? r() : this.idle.push(r)));
    const signal = this.controller.signal;
    if (!signal.aborted) {
      let onAbort = () => {};
      const aborted = new Promise<void>((r) => signal.addEventListener('abort', (onAbort = () => r()), { once: true }));
      await Promise.race([empty(), aborted]);
      signal.removeEventListener('abort', onAbort);
    }
    const done = this.runs.size === 0 || (await bounded(empty, timeoutMs));
    if (done) this.off();
    return done;
  }
}
