import type { Lock, LockStore, TargetInfo, UpstreamInfo } from '../../core/plugin-api';

/** A worker slot held by this process: one of a target's `limit` locks. */
export interface Slot {
  readonly url: string;
  readonly lock: Lock;
}

/** A target's slot count: its own maxConnections, else the upstream's per-target limit, else 1. */
export function slotsOf(t: TargetInfo, info: UpstreamInfo): number {
  return t.maxConnections || info.maxConnectionsPerTarget || 1;
}

/** Targets that may be sent work now: healthy and not ejected. */
export function usable(info: UpstreamInfo | undefined): readonly TargetInfo[] {
  return info ? info.targets.filter((t) => t.healthy && !t.ejected) : [];
}

/**
 * The per-target limit across every process on the store: a task goes to a target only under
 * one of its `slot/<url>/<i>` locks (i below the limit), renewed while the task runs there. A
 * lock is released when the worker has answered; when the worker may still be at work (the
 * post was aborted, timed out, or its gatehouse died), it is left to lapse after its TTL.
 */
export class Slots {
  private next = 0;
  /** Slots this process holds or let lapse, by lock name: no point asking the store for them. */
  private readonly busy = new Map<string, number>();

  constructor(
    private readonly locks: () => LockStore,
    private readonly ttlMs: number,
  ) {}

  /** A free slot on one of `targets` (tried from a rotating start), or undefined. */
  async take(targets: readonly TargetInfo[], info: UpstreamInfo, down: ReadonlyMap<string, number>): Promise<Slot | undefined> {
    const now = Date.now();
    const n = targets.length;
    for (let k = 0; k < n; k++) {
      const t = targets[(this.next + k) % n];
      if ((down.get(t.url) ?? 0) > now) continue;
      for (let i = 0; i < slotsOf(t, info); i++) {
        const name = `slot/${t.url}/${i}`;
        if ((this.busy.get(name) ?? 0) > now) continue;
        const lock = await this.locks().acquire(name, this.ttlMs);
        if (lock) {
          this.next = (this.next + k + 1) % n;
          this.busy.set(name, Number.MAX_SAFE_INTEGER);
          return { url: t.url, lock };
        }
      }
    }
    return undefined;
  }

  /** The worker answered: the slot is free now. */
  async free(slot: Slot): Promise<void> {
    this.busy.delete(slot.lock.name);
    await slot.lock.release().catch(() => undefined);
  }

  /** The worker may still be at it: leave the lock to lapse (not renewed) after its TTL. */
  lapse(slot: Slot): void {
    this.busy.set(slot.lock.name, Date.now() + this.ttlMs);
    // A full TTL from now, not from the last renewal: the worker learnt nothing from us yet.
    void slot.lock.renew().catch(() => undefined);
  }
}
