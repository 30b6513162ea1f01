import type { Worker } from 'node:cluster';

/** First delay before a crashed worker is replaced; it doubles with each crash in the window. */
export const RESTART_FIRST_MS = 100;
/** Longest delay before a crashed worker is replaced. */
export const RESTART_MAX_MS = 10000;

/** Where one of the primary's worker slots is. */
export type SlotState = 'starting' | 'running' | 'restarting' | 'stopped';

/** Every state, for `gatehouse_workers{state}` (a state with no slot reads 0, not absent). */
export const SLOT_STATES: readonly SlotState[] = ['starting', 'running', 'restarting', 'stopped'];

/**
 * One of the N places a worker runs in: the worker now in it, and its crash history, from which
 * the backoff before a replacement and the crash-loop verdict are made.
 */
export class WorkerSlot {
  state: SlotState = 'starting';
  worker?: Worker;
  /** Why the slot was left stopped (a crash loop). */
  stoppedWhy?: string;
  timer?: NodeJS.Timeout;
  /** What the last worker to exit said before it did (a start failure's message). */
  lastFailure?: string;
  private crashes: number[] = [];

  constructor(
    /** 1-based, stable across the slot's workers (a worker's id is not: each replacement gets a new one). */
    readonly index: number,
    private readonly limit: { max: number; windowMs: number },
  ) {}

  /**
   * Note a crash at `now`: the delay before the replacement starts (100 ms, doubling with each
   * crash within the window, at most {@link RESTART_MAX_MS}), or undefined when the slot has
   * crashed more than `max` times within the window and is to be left stopped.
   */
  crashed(now: number): number | undefined {
    this.crashes = this.crashes.filter((t) => now - t < this.limit.windowMs);
    this.crashes.push(now);
    const n = this.crashes.length;
    if (n > this.limit.max) return undefined;
    return Math.min(RESTART_FIRST_MS * 2 ** (n - 1), RESTART_MAX_MS);
  }

  /** Crashes within the window, as last counted. */
  get recentCrashes(): number {
    return this.crashes.length;
  }
}
