import type { Logger } from 'pino';
import type { UpstreamConfig } from '../config/types';
import type { Context } from '../pipeline/context';
import { selectorFor, type Selector, type Usable } from './balance';
import { startChecks, stopChecks, type HealthOwner } from './health';
import { agentSettings, sameSettings, Target, toSpec, type AgentSettings, type TargetSpec } from './target';

/**
 * An upstream's live targets and which of them may take a request: the list (replaced at any
 * time, in-flight requests finishing where they are), its settings across reloads, health and
 * panic mode, and the balancing policy that picks among the usable ones. What requests hold of
 * the targets (slots, the queue, retries) is {@link UpstreamPool}'s, which builds on this.
 */
export abstract class TargetSet implements HealthOwner {
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
    this.usable = (t) =>
      (this.excluding === undefined || !this.excluding.includes(t)) &&
      (!this.gated || (t.healthy && t.ejectedUntil <= this.now)) &&
      (!this.limited || t.active < (t.maxConnections || this.limit || Infinity));
  }

  /** Slots may have become usable (targets, health or limits changed): serve waiting requests. */
  protected abstract serveQueue(): void;

  /** A reload's config for this pool: policy and limits now; new agents if their settings changed. */
  configure(config: Readonly<UpstreamConfig>, readBuffer: boolean): void {
    this.config = config;
    const settings = agentSettings(config, readBuffer);
    const rebuild = !sameSettings(settings, this.settings);
    this.settings = settings;
    this.selector = selectorFor(config.balance, config.hashKey);
    this.limit = config.maxConnectionsPerTarget;
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
    this.serveQueue();
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

  /** {@link pick}, leaving out the targets in `tried` (a retry's). */
  protected pickExcept(ctx: Context, tried: Target[]): Target | undefined {
    this.excluding = tried;
    try {
      return this.pick(ctx);
    } finally {
      this.excluding = undefined;
    }
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
    for (const t of this.targets) t.retire();
    this.targets = [];
    this.changed();
    this.listeners.clear();
  }
}
