import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { Waker, type LeasedItem, type QueueStore } from '../../core/plugin-api';
import type { Circuit } from './circuit';
import { parseDuration, retryAfterMs, withJitter } from './durations';
import type { StoredMessage } from './message';
import type { WebhookMetrics } from './metrics';
import type { Poster, PostResult } from './post';
import type { WebhookIngestOptions } from './schema';

/** How soon a failed lease is tried again. */
const STORE_RETRY_MS = 1000;

/** What to do with a message after one attempt. */
export type Decision =
  | { readonly kind: 'ack' }
  | { readonly kind: 'dead'; readonly error: string }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly error: string };

/** Settings of {@link decide}, from the options. */
export interface RetryPolicy {
  readonly scheduleMs: readonly number[];
  readonly jitter: number;
  readonly maxAgeMs: number;
  readonly retryAfterMaxMs: number;
}

/** The retry policy of the options (schedule parsed once). */
export function retryPolicy(options: Readonly<WebhookIngestOptions>): RetryPolicy {
  return {
    scheduleMs: options.retry.schedule.map(parseDuration),
    jitter: options.retry.jitter,
    maxAgeMs: options.retry.maxAgeMs,
    retryAfterMaxMs: options.deliver.retryAfterMaxMs,
  };
}

/**
 * The fate of a message after attempt number `attempts`: 2xx done; 410 dead at once; 429/503 with
 * Retry-After waits that long (capped); anything else takes the schedule's next step with jitter;
 * past the schedule's end, or when the next try would be past maxAgeMs, it is dead with the last error.
 */
export function decide(
  result: PostResult,
  attempts: number,
  receivedAt: number,
  now: number,
  p: RetryPolicy,
  random = Math.random,
): Decision {
  let error: string;
  let delayMs: number | undefined;
  if ('status' in result) {
    if (result.status >= 200 && result.status <= 299) return { kind: 'ack' };
    error = `the destination answered ${result.status}`;
    if (result.status === 410) return { kind: 'dead', error: `${error} (Gone)` };
    if (result.status === 429 || result.status === 503) {
      const ra = retryAfterMs(result.retryAfter, now);
      if (ra !== undefined) delayMs = Math.min(ra, p.retryAfterMaxMs);
    }
  } else error = result.error;
  if (delayMs === undefined) {
    const step = Math.max(0, attempts - 1);
    if (step >= p.scheduleMs.length) return { kind: 'dead', error: `${error}; the retry schedule is used up after ${attempts} attempts` };
    delayMs = withJitter(p.scheduleMs[step], p.jitter, random);
  }
  if (now + delayMs - receivedAt > p.maxAgeMs) return { kind: 'dead', error: `${error}; the next attempt would be past maxAgeMs` };
  return { kind: 'retry', delayMs, error };
}

/** The status class of an attempt, for the latency histogram. */
function classOf(r: PostResult): string {
  return 'status' in r ? `${Math.floor(r.status / 100)}xx` : 'error';
}

/** Services a delivery loop needs. */
export interface DeliveryDeps {
  readonly queue: () => QueueStore;
  readonly queueName: string;
  readonly poster: Poster;
  readonly circuit: Circuit;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
}

/**
 * The delivery loop (a singleton task): lease due messages up to the free concurrency (and the
 * rate limit, and what the circuit allows), post each, then ack, retry or bury it. Leases keep
 * other processes from delivering a message while one is at it; an attempt outliving its lease
 * (a crash) is simply retried, so delivery is at least once, keyed by Gatehouse-Delivery-Id.
 */
export class DeliveryLoop {
  private inflight = 0;
  private readonly waker = new Waker();
  private readonly policy: RetryPolicy;
  private tokens: number;
  private lastRefill = Date.now();

  constructor(
    private readonly options: Readonly<WebhookIngestOptions>,
    private readonly deps: DeliveryDeps,
  ) {
    this.policy = retryPolicy(options);
    this.tokens = Math.max(1, options.deliver.ratePerSec);
  }

  async run(signal: AbortSignal): Promise<void> {
    const { concurrency, leaseMs, pollMs } = this.options.deliver;
    const running = new Set<Promise<void>>();
    // Each attempt in flight listens for the abort (and the loop's sleep): not a leak.
    setMaxListeners(concurrency + 10, signal);
    try {
      while (!signal.aborted) {
        const now = Date.now();
        let n = this.deps.circuit.allowance(now, concurrency - this.inflight, this.inflight);
        n = Math.min(n, this.rateAllowance(now));
        let items: LeasedItem[] = [];
        try {
          if (n > 0) items = await this.deps.queue().lease(this.deps.queueName, n, leaseMs);
        } catch (err) {
          // The store is failing (locked, disk full, Redis gone): look again soon rather than in the task's growing backoff.
          this.deps.logger.warn({ err: (err as Error).message }, 'delivery cannot lease from the store');
          await this.waker.sleep(STORE_RETRY_MS, signal);
          continue;
        }
        for (const item of items) {
          if (!this.take(Date.now())) break;
          this.deps.circuit.started(Date.now());
          this.inflight += 1;
          const p = this.attempt(item as LeasedItem<never>, signal)
            // A message that cannot even be attempted (a malformed payload) is dead-lettered with the reason, never a crash.
            .catch((err: unknown) => this.bury(item, err))
            .finally(() => {
              this.inflight -= 1;
              running.delete(p);
              this.waker.nudge();
            });
          running.add(p);
        }
        if (items.length === 0 || this.inflight >= concurrency) {
          const circuitWait = this.deps.circuit.waitMs(Date.now());
          await this.waker.sleep(circuitWait > 0 ? Math.min(circuitWait, pollMs * 4) : pollMs, signal);
        }
      }
    } finally {
      await Promise.allSettled([...running]);
    }
  }

  /** Attempts the rate limit allows now (a token bucket of one second's worth). */
  private rateAllowance(now: number): number {
    const rate = this.options.deliver.ratePerSec;
    if (rate <= 0) return Number.MAX_SAFE_INTEGER;
    this.tokens = Math.min(Math.max(1, rate), this.tokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
    return Math.floor(this.tokens);
  }

  private take(now: number): boolean {
    if (this.options.deliver.ratePerSec <= 0) return true;
    this.rateAllowance(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private async attempt(item: LeasedItem<never>, signal: AbortSignal): Promise<void> {
    const m = item.payload as unknown as StoredMessage;
    const { queue } = this.deps;
    const headers: Record<string, string> = {
      ...m.headers,
      ...(m.contentType !== undefined ? { 'content-type': m.contentType } : {}),
      'gatehouse-delivery-id': item.id,
      'gatehouse-attempt': String(item.attempts),
      'gatehouse-received-at': new Date(m.receivedAt).toISOString(),
    };
    const result = await this.deps.poster.post(m.path, Buffer.from(m.body, 'base64'), headers, signal);
    this.deps.metrics.attempt(classOf(result), result.ms / 1000);
    const now = Date.now();
    if (signal.aborted && !('status' in result)) {
      // Stopping: hand the message back at once for the next holder of the task, without counting a failure.
      await queue()
        .retry(item, 0, result.error)
        .catch(() => undefined);
      return;
    }
    const d = decide(result, item.attempts, m.receivedAt, now, this.policy);
    const destinationFailed = !('status' in result) || result.status >= 500;
    if (destinationFailed) this.deps.circuit.failed(now);
    else this.deps.circuit.succeeded();
    let kept: boolean;
    try {
      if (d.kind === 'ack') kept = await queue().ack(item, { status: 'status' in result ? result.status : 0, at: now });
      else if (d.kind === 'dead') kept = await queue().dead(item, d.error);
      else kept = await queue().retry(item, d.delayMs, d.error);
    } catch (err) {
      // The lease runs out and the message is due again: at least once, never lost.
      this.deps.logger.warn({ id: item.id, err: (err as Error).message }, 'delivery outcome not recorded');
      return;
    }
    if (!kept) return this.deps.metrics.delivery('lost_lease');
    if (d.kind === 'ack') this.deps.metrics.delivery('delivered');
    else if (d.kind === 'retry') this.deps.metrics.delivery('retry');
    else {
      this.deps.metrics.delivery('status' in result && result.status === 410 ? 'gone' : 'dead');
      this.deps.logger.warn({ id: item.id, attempts: item.attempts, error: d.error }, 'webhook dead-lettered');
    }
  }

  private async bury(item: LeasedItem, err: unknown): Promise<void> {
    const why = `cannot be delivered: ${(err as Error).message}`;
    this.deps.logger.error({ id: item.id, err: why }, 'webhook dead-lettered');
    this.deps.metrics.delivery('dead');
    await this.deps
      .queue()
      .dead(item, why)
      .catch(() => undefined);
  }

  /** Look at the queue now (a message was just stored or replayed). */
  nudge(): void {
    this.waker.nudge();
  }
}
