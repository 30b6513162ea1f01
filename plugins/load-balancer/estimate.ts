/** Weight of the newest sample in the service time average. */
const ALPHA = 0.2;

/**
 * How long tasks take, as this process measured them (an EWMA of attempts that got an answer),
 * and what that says about when a queued task will finish.
 */
export class ServiceTime {
  private ewmaMs: number | undefined;

  /** A finished attempt took `ms`. */
  add(ms: number): void {
    this.ewmaMs = this.ewmaMs === undefined ? ms : this.ewmaMs + ALPHA * (ms - this.ewmaMs);
  }

  /** The average, undefined before any task finished here. */
  get ms(): number | undefined {
    return this.ewmaMs;
  }

  /**
   * Epoch ms a task is expected to finish: `ahead` tasks before it shared among `slots` workers,
   * then its own run (less what it ran already, when running). Undefined without a measurement.
   */
  eta(ahead: number, slots: number, now: number, runningSince?: number): number | undefined {
    if (this.ewmaMs === undefined) return undefined;
    if (runningSince !== undefined) return Math.max(now, runningSince + this.ewmaMs);
    const rounds = Math.floor(ahead / Math.max(1, slots)) + 1;
    return now + Math.round(rounds * this.ewmaMs);
  }
}
