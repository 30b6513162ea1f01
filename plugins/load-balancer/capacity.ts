import type { LoadBalancerOptions } from './schema';

/** What the advice is computed from. */
export interface CapacityInputs {
  /** Tasks waiting. */
  readonly depth: number;
  /** Workers running a task. */
  readonly busy: number;
  /** Healthy workers with a free slot and nothing to do. */
  readonly idle: number;
  /** Workers declared but not healthy yet (starting up). */
  readonly booting: number;
}

/** The advice and the streak behind it (hysteresis). */
export interface Advice {
  readonly delta: number;
  /** What the raw rule said this time, and how many evaluations in a row said the same. */
  readonly raw: number;
  readonly streak: number;
}

/**
 * SG's rubber.py, with limits and hysteresis: depth above the threshold → add
 * ceil(depth × spawnRatio) − booting; an empty queue → remove the idle workers beyond minIdle;
 * never past `max` workers in all. The raw rule must point the same way `stable` times in a row
 * before the advice follows it; otherwise the advice is 0.
 */
export function advise(i: CapacityInputs, o: Readonly<LoadBalancerOptions['capacity']>, prev?: Advice): Advice {
  const total = i.busy + i.idle + i.booting;
  let raw = 0;
  if (i.depth > o.threshold) raw = Math.max(0, Math.min(Math.ceil(i.depth * o.spawnRatio) - i.booting, o.max - total));
  else if (i.depth === 0 && i.idle > o.minIdle) raw = -(i.idle - o.minIdle);
  if (total > o.max) raw = Math.min(raw, -(total - o.max));
  const sameWay = prev !== undefined && Math.sign(prev.raw) === Math.sign(raw) && raw !== 0;
  const streak = raw === 0 ? 0 : sameWay ? prev.streak + 1 : 1;
  return { raw, streak, delta: streak >= o.stable ? raw : 0 };
}
