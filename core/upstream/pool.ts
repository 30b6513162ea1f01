import type { UpstreamConfig } from '../config/types';
import type { RequestContext } from '../pipeline/request-context';
import type { Target } from './target';
import { GatehouseError } from '../errors';
import { deadlineError, deadlineOf, WaitQueue } from './queue';
import type { Logger } from 'pino';
import { reportOutcome } from './health';
import { mayRetry, RetryBudget, type AttemptFailure } from './retry';
import { TargetSet } from './target-set';

export { Target } from './target';

/**
 * A named pool of live targets. Targets can be replaced at any time ({@link setTargets}): new
 * requests see the new list at once, in-flight ones finish on the target they have, and a
 * removed target's agent is closed after its last request. The pool outlives config
 * generations (the gateway's upstream registry owns it); a reload reconfigures it.
 *
 * The targets, their health and the choice among them are {@link TargetSet}'s; here is what
 * requests hold of them: a slot per request in flight, the queue of those waiting for one,
 * deadlines, retries and their budget, and each outcome reported to passive health.
 */
export class UpstreamPool extends TargetSet {
  private budget: RetryBudget | undefined;
  private readonly queue = new WaitQueue();

  /** @param readBuffer plain-HTTP targets read into core's reused buffer (`server.tuning.readBuffer`). */
  constructor(name: string, config: Readonly<UpstreamConfig>, readBuffer: boolean, logger: Logger) {
    super(name, config, readBuffer, logger);
    this.budget = config.retry ? new RetryBudget(config.retry.budgetPercent) : undefined;
    // Here, not in TargetSet's constructor: serving the queue needs this class's fields.
    if (config.targets) this.setTargets(config.targets);
  }

  override configure(config: Readonly<UpstreamConfig>, readBuffer: boolean): void {
    this.budget = config.retry ? new RetryBudget(config.retry.budgetPercent) : undefined;
    super.configure(config, readBuffer);
  }

  /**
   * Take a target for the request (counted in flight until {@link release}), or undefined when
   * every target is at its limit (then {@link wait}). Throws the 504 of a deadline that has
   * passed: such a request never takes a slot.
   */
  acquire(ctx: RequestContext): Target | undefined {
    const d = this.config.deadlineHeaders;
    // Two property reads in the common case: no deadline header sent.
    if (d.absolute !== '' || d.relative !== '') {
      ctx.deadline = deadlineOf(ctx, d.absolute, d.relative);
      if (ctx.deadline !== 0 && ctx.deadline <= Date.now()) throw deadlineError(this);
    }
    if (this.budget !== undefined) this.budget.request(Date.now());
    // Requests that waited go first: a free slot is theirs.
    if (this.queue.size > 0) return undefined;
    const t = this.pick(ctx);
    if (t === undefined) return undefined;
    this.lease(ctx, t);
    return t;
  }

  /** Requests waiting for a slot now. */
  queued(): number {
    return this.queue.size;
  }

  /**
   * Wait for a slot: resolves with the target (slot taken) as one frees up, first come first
   * served; with undefined if the client leaves meanwhile (the request leaves the queue at
   * once); rejects with 503 when there is no target or the queue is full, and with 503 or 504
   * when the queue timeout or the request's deadline comes first.
   */
  wait(ctx: RequestContext): Promise<Target | undefined> {
    if (this.targets.length === 0)
      return Promise.reject(
        new GatehouseError('GH_ERR_UPSTREAM_NO_TARGETS', `Upstream "${this.name}" has no target to send the request to`),
      );
    const { max, timeoutMs } = this.config.queue;
    if (this.queue.size >= max)
      return Promise.reject(
        new GatehouseError('GH_ERR_UPSTREAM_QUEUE_FULL', `Upstream "${this.name}": every target is busy and ${max} requests wait already`),
      );
    const waiting = this.queue.wait(ctx, this.name, timeoutMs);
    ctx.pickedPool = this;
    // A slot may have freed in between (or targets were added): serve the queue now.
    this.dispatch();
    return waiting;
  }

  protected override serveQueue(): void {
    if (this.queue.size > 0) this.dispatch();
  }

  /** Give free slots to waiting requests, in order. */
  private dispatch(): void {
    for (let w = this.queue.head; w !== undefined; w = this.queue.head) {
      const t = this.pick(w.ctx);
      if (t === undefined) return;
      this.queue.remove(w);
      w.ctx.waiting = undefined;
      this.lease(w.ctx, t);
      w.resolve(t);
    }
  }

  /** Count `t` as the request's target. */
  lease(ctx: RequestContext, t: Target): void {
    t.active++;
    t.picks++;
    ctx.picked = t;
    ctx.pickedPool = this;
    ctx.pickedAt = performance.now();
  }

  /** The request is done with its target (answered, failed or abandoned), or left the queue. */
  release(ctx: RequestContext): void {
    const w = ctx.waiting;
    if (w !== undefined) {
      ctx.waiting = undefined;
      this.queue.remove(w);
      w.resolve(undefined);
    }
    const t = ctx.picked;
    if (t === undefined) return;
    ctx.picked = undefined;
    const now = performance.now();
    // An upgrade holds its slot while the session lasts: its latency is the time to the 101.
    const ms = ctx.upgrade ? ctx.upgradeMs : now - ctx.pickedAt;
    if (ms >= 0) t.observe(ms, now);
    // Passive health: an upstream failure (-1) or 5xx counts against the target; no answer at all (the client left) does not.
    if (this.config.outlier !== undefined && ctx.upstreamStatus !== 0)
      reportOutcome(this, t, ctx.upstreamStatus < 0 || ctx.upstreamStatus >= 500);
    t.done();
    if (this.queue.size > 0) this.dispatch();
  }

  /**
   * Another target for a request whose attempt failed, its slot taken, if `retry` allows: the
   * cause is listed, attempts and budget are left, nothing was answered, the body can be sent
   * again, and a target not tried yet is free. The failed attempt's slot is released then.
   */
  retryTarget(ctx: RequestContext, failure: AttemptFailure): Target | undefined {
    const retry = this.config.retry;
    const old = ctx.picked;
    if (retry === undefined || old === undefined || !mayRetry(ctx, retry, failure)) return undefined;
    (ctx.tried ??= []).push(old);
    const t = this.pickExcept(ctx, ctx.tried);
    if (t === undefined || !this.budget!.take(Date.now())) return undefined;
    old.retries++;
    ctx.retries++;
    // Held before the failed attempt's slot is released, which may serve the queue.
    t.active++;
    this.release(ctx);
    t.active--;
    this.lease(ctx, t);
    return t;
  }

  /** No new requests; every target closes once its in-flight requests end. */
  override destroy(): void {
    // Waiting requests of a removed upstream get their answer now, not at the queue timeout.
    for (let w = this.queue.head; w !== undefined; w = this.queue.head) {
      this.queue.remove(w);
      w.ctx.waiting = undefined;
      w.reject(new GatehouseError('GH_ERR_UPSTREAM_NO_TARGETS', `Upstream "${this.name}" was removed`));
    }
    super.destroy();
  }
}
