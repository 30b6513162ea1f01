import type { UpstreamConfig } from '../config/types';
import type { Context } from '../pipeline/context';
import type { RequestContext } from '../pipeline/request-context';
import { selectorFor, type Selector, type Usable } from './balance';
import { agentSettings, sameSettings, Target, toSpec, type AgentSettings, type TargetSpec } from './target';
import { GatehouseError } from '../errors';
import { deadlineError, deadlineOf, WaitQueue } from './queue';
import type { Logger } from 'pino';
import { reportOutcome, startChecks, stopChecks, type HealthOwner } from './health';
import { mayRetry, RetryBudget, type AttemptFailure } from './retry';

export { Target } from './target';

/**
 * A named pool of live targets. Targets can be replaced at any time ({@link setTargets}): new
 * requests see the new list at once, in-flight ones finish on the target they have, and a
 * removed target's agent is closed after its last request. The pool outlives config
 * generations (the gateway's upstream registry owns it); a reload reconfigures it.
 */
export class UpstreamPool implements HealthOwner {
  /** The live targets (a new array on every change, so a selector may index the one it got). */
  targets: readonly Target[] = [];
  private selector: Selector;
  /** A plugin's selector (scope.upstreams.useSelector), over the configured policy. */
  private custom: Selector | undefined = undefined;
  private settings: AgentSettings;
  /** In-flight limit per target (0: none), for targets without their own. */
  private limit: number;
  /** Whether targets' limits must be checked when choosing (any limit set). */
  private limited = false;
  private destroyed = false;
  private readonly listeners = new Set<() => void>();
  /** Why a target may take a request now (bound once: selectors call it per candidate). */
  readonly usable: Usable;
  /** Health decides (checks or outlier detection on, and not in panic mode). */
  private gated = false;
  /** Panic mode: under half the targets healthy, so all of them are used. */
  panic = false;
  /** Date.now() of the pick under way, read once per pick while health decides. */
  private now = 0;
  /** Targets a retry must not go to (set only during a retry's pick). */
  private excluding: Target[] | undefined = undefined;
  private budget: RetryBudget | undefined;

  /** @param readBuffer plain-HTTP targets read into core's reused buffer (`server.tuning.readBuffer`). */
  constructor(
    readonly name: string,
    public config: Readonly<UpstreamConfig>,
    readBuffer: boolean,
    readonly logger: Logger,
  ) {
    this.settings = agentSettings(config, readBuffer);
    this.selector = selectorFor(config.balance, config.hashKey);
    this.limit = config.maxConnectionsPerTarget;
    this.budget = config.retry ? new RetryBudget(config.retry.budgetPercent) : undefined;
    this.usable = (t) =>
      (this.excluding === undefined || !this.excluding.includes(t)) &&
      (!this.gated || (t.healthy && t.ejectedUntil <= this.now)) &&
      (!this.limited || t.active < (t.maxConnections || this.limit || Infinity));
    if (config.targets) this.setTargets(config.targets);
  }

  /** A reload's config for this pool: policy and limits now; new agents if their settings changed. */
  configure(config: Readonly<UpstreamConfig>, readBuffer: boolean): void {
    this.config = config;
    const settings = agentSettings(config, readBuffer);
    const rebuild = !sameSettings(settings, this.settings);
    this.settings = settings;
    this.selector = selectorFor(config.balance, config.hashKey);
    this.limit = config.maxConnectionsPerTarget;
    this.budget = config.retry ? new RetryBudget(config.retry.budgetPercent) : undefined;
    // Checks restart with the new settings (or stop); verdicts so far stand.
    for (const t of this.targets) {
      stopChecks(t);
      startChecks(this, t);
    }
    if (rebuild) {
      // Same URLs, new agents: the old targets drain and close like removed ones.
      const specs = this.targets.map((t) => ({ url: t.key, weight: t.weight, maxConnections: t.maxConnections }));
      for (const t of this.targets) t.retire();
      this.targets = [];
      this.setTargets(specs);
    } else this.changed();
  }

  /** A plugin's selector instead of the configured policy (undefined: back to the policy). */
  useSelector(selector: Selector | undefined): void {
    this.custom = selector;
    selector?.reset?.(this.targets);
  }

  /** Whether `selector` is the plugin selector in use. */
  selectorIs(selector: Selector): boolean {
    return this.custom === selector;
  }

  /**
   * Replace the targets (URLs or `{ url, weight, maxConnections }`). A URL already present keeps
   * its target (agent, sockets, counters) with the new weight; a target no longer listed takes
   * no new requests and is closed once its in-flight ones end. Throws (changing nothing) on an
   * invalid entry.
   */
  setTargets(list: readonly (string | Partial<TargetSpec>)[]): void {
    if (this.destroyed) return;
    const specs = list.map((t) => toSpec(t as never));
    const old = new Map(this.targets.map((t) => [t.key, t]));
    const next: Target[] = [];
    const seen = new Set<string>();
    for (const s of specs) {
      if (seen.has(s.url)) continue; // one target per URL: its agent's accounting stays exact
      seen.add(s.url);
      let t = old.get(s.url);
      if (t) {
        old.delete(s.url);
        t.weight = s.weight;
        t.maxConnections = s.maxConnections;
      } else {
        t = new Target(s.url, s, this.settings);
        startChecks(this, t);
      }
      next.push(t);
    }
    for (const t of old.values()) t.retire();
    this.targets = next;
    this.changed();
  }

  /** Recompute what depends on the targets and tell the watchers. */
  private changed(): void {
    this.limited = this.limit > 0 || this.targets.some((t) => t.maxConnections > 0);
    this.selector.reset?.(this.targets);
    this.custom?.reset?.(this.targets);
    this.healthChanged();
  }

  /** A target's health or ejection changed (or the targets did): panic mode, watchers, the queue. */
  healthChanged(): void {
    const watched = this.config.healthCheck !== undefined || this.config.outlier !== undefined;
    let panic = false;
    if (watched && this.targets.length > 0) {
      const now = Date.now();
      let ok = 0;
      for (const t of this.targets) if (t.healthy && !t.ejected(now)) ok++;
      // Envoy's panic threshold: with under half healthy, the rest could not carry the load.
      panic = ok * 2 < this.targets.length;
      if (panic !== this.panic)
        this.logger[panic ? 'warn' : 'info'](
          { upstream: this.name, healthy: ok, targets: this.targets.length },
          panic ? 'upstream in panic mode: under half its targets are healthy, all are used' : 'upstream out of panic mode',
        );
    }
    this.panic = panic;
    this.gated = watched && !panic;
    for (const l of this.listeners) l();
    if (this.queue.size > 0) this.dispatch();
  }

  /** Targets ejected by outlier detection now. */
  ejectedCount(): number {
    const now = Date.now();
    let n = 0;
    for (const t of this.targets) if (t.ejected(now)) n++;
    return n;
  }

  /** Call `fn` after every change of targets or settings; returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A target for the request by the pool's policy, among those that may take it now, or undefined. */
  pick(ctx: Context): Target | undefined {
    const targets = this.targets;
    if (this.gated) this.now = Date.now();
    if (targets.length === 1) return this.usable(targets[0]) ? targets[0] : undefined;
    return (this.custom ?? this.selector).pick(targets, this.usable, ctx);
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

  private readonly queue = new WaitQueue();

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
    this.excluding = ctx.tried;
    let t: Target | undefined;
    try {
      t = this.pick(ctx);
    } finally {
      this.excluding = undefined;
    }
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

  /** Sockets open to this pool right now, in use and idle. */
  openSockets(): number {
    let n = 0;
    for (const t of this.targets) n += t.openSockets();
    return n;
  }

  /** No new requests; every target closes once its in-flight requests end. */
  destroy(): void {
    this.destroyed = true;
    // Waiting requests of a removed upstream get their answer now, not at the queue timeout.
    for (let w = this.queue.head; w !== undefined; w = this.queue.head) {
      this.queue.remove(w);
      w.ctx.waiting = undefined;
      w.reject(new GatehouseError('GH_ERR_UPSTREAM_NO_TARGETS', `Upstream "${this.name}" was removed`));
    }
    for (const t of this.targets) t.retire();
    this.targets = [];
    this.changed();
    this.listeners.clear();
  }
}
