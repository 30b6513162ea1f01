import type { Lock, LockStore, TargetInfo, UpstreamInfo } from '../../core/plugin-api';

/** A worker slot held by this process: one of a target's `limit` locks. */
export interface Slot {
  readonly url: string;
  readonly lock: Lock;
  /** When the lock was last taken or renewed (it holds a TTL from then). */
  renewedAt: number;
  /** When its worker answered and it was parked for the next task. */
  parkedAt?: number;
}

/**
 * A parked slot is released after this long without a task: other processes on the store may
 * have work for that worker, and a parked slot keeps them from it.
 */
const PARK_MS = 500;

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
 * lock whose worker answered is kept a little while for the next task (parked: no release and
 * no new acquire between tasks), then released; when the worker may still be at work (the post
 * was aborted, timed out, or its gatehouse died), it is left to lapse after its TTL.
 */
export class Slots {
  private next = 0;
  /** Slots this process holds or let lapse, by lock name (until when): no point asking the store for them. */
  private readonly busy = new Map<string, number>();
  /** Slots whose worker answered, held for the next task. */
  private parked: Slot[] = [];
  private closed = false;

  constructor(
    private readonly locks: () => LockStore,
    private readonly ttlMs: number,
  ) {}

  /** A parked slot is reused while its lock has at least two thirds of its TTL left, and not parked too long. */
  private fresh(s: Slot, now: number): boolean {
    return now - s.renewedAt < this.ttlMs / 3 && now - (s.parkedAt ?? now) < PARK_MS;
  }

  /** Up to `max` free slots on `targets` (parked ones first, then new locks tried at once from a rotating start). */
  async take(targets: readonly TargetInfo[], info: UpstreamInfo, down: ReadonlyMap<string, number>, max: number): Promise<Slot[]> {
    const now = Date.now();
    const ok = new Set(targets.filter((t) => (down.get(t.url) ?? 0) <= now).map((t) => t.url));
    const out: Slot[] = [];
    const keep: Slot[] = [];
    for (const s of this.parked) {
      if (out.length < max && ok.has(s.url) && this.fresh(s, now)) out.push(s);
      else keep.push(s);
    }
    this.parked = keep;
    const names: { url: string; name: string }[] = [];
    const n = targets.length;
    for (let k = 0; k < n && out.length + names.length < max; k++) {
      const t = targets[(this.next + k) % n];
      if (!ok.has(t.url)) continue;
      for (let i = 0; i < slotsOf(t, info) && out.length + names.length < max; i++) {
        const name = `slot/${t.url}/${i}`;
        if ((this.busy.get(name) ?? 0) <= now) names.push({ url: t.url, name });
      }
    }
    if (n > 0) this.next = (this.next + 1) % n;
    // Concurrent acquires share one store commit (SQLite group commit, one Redis round trip each).
    const locks = await Promise.all(names.map((c) => this.locks().acquire(c.name, this.ttlMs)));
    names.forEach((c, i) => {
      const lock = locks[i];
      if (!lock) return;
      this.busy.set(c.name, Number.MAX_SAFE_INTEGER);
      out.push({ url: c.url, lock, renewedAt: now });
    });
    return out;
  }

  /** The worker answered: keep the slot for the next task a moment (released at once once closed: no next task here). */
  park(slot: Slot): void {
    if (this.closed) {
      void this.free(slot);
      return;
    }
    slot.parkedAt = Date.now();
    this.parked.push(slot);
  }

  /** Dispatch (re)starts: park answered slots again (a reload that failed restarts the old loop). */
  open(): void {
    this.closed = false;
  }

  /** Dispatch ended (reload or shutdown): release the parked slots, and from now on each slot as its worker answers. */
  close(): Promise<void> {
    this.closed = true;
    return this.sweep(true);
  }

  /** Release parked slots that were not reused in time (or all of them). */
  async sweep(all = false): Promise<void> {
    const now = Date.now();
    const stale = this.parked.filter((s) => all || !this.fresh(s, now));
    if (stale.length === 0) return;
    this.parked = this.parked.filter((s) => !stale.includes(s));
    await Promise.all(stale.map((s) => this.free(s)));
  }

  /** The slot is free now. */
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
