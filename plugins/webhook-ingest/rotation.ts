import type { TargetInfo, UpstreamInfo } from '../../core/plugin-api';

/**
 * The target each delivery attempt goes to, from an upstream's live targets: smooth weighted
 * round robin (nginx's, as core's default policy) over the usable ones (healthy and not
 * ejected), so deliveries spread over the targets and skip those core keeps requests from.
 * With under half of them usable, all are used, as core does (Envoy's panic mode): a health
 * verdict may be what is wrong, and delivering to some beats delivering to none.
 */
export class TargetRotation {
  /** Each target's running weight, by URL (targets come and go: kept only for listed ones). */
  private readonly current = new Map<string, number>();

  /** @param info the upstream as it is now (undefined: not declared). */
  constructor(private readonly info: () => UpstreamInfo | undefined) {}

  /** The base URL of the next attempt, or undefined while the upstream has no targets. */
  next(): URL | undefined {
    const targets = this.info()?.targets ?? [];
    if (targets.length === 0) return undefined;
    let usable: readonly TargetInfo[] = targets.filter((t) => t.healthy && !t.ejected);
    if (usable.length * 2 < targets.length) usable = targets;
    let best: TargetInfo | undefined;
    let bestWeight = -Infinity;
    let total = 0;
    for (const t of usable) {
      const w = (this.current.get(t.url) ?? 0) + t.weight;
      this.current.set(t.url, w);
      total += t.weight;
      if (w > bestWeight) {
        best = t;
        bestWeight = w;
      }
    }
    this.current.set(best!.url, bestWeight - total);
    if (this.current.size > targets.length) this.forgetGone(targets);
    return new URL(best!.url);
  }

  private forgetGone(targets: readonly TargetInfo[]): void {
    const listed = new Set(targets.map((t) => t.url));
    for (const url of this.current.keys()) if (!listed.has(url)) this.current.delete(url);
  }
}
