import { MAX_DURATION_MS } from '../../core/plugin-api';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60000, h: 3600000 };

/** `1s`, `5m`, `250ms`, `3h` in ms; NaN when malformed or past what timers hold. */
export function parseDuration(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(text);
  if (!m) return NaN;
  const ms = Number(m[1]) * UNITS[m[2]];
  return ms <= MAX_DURATION_MS ? ms : NaN;
}

/** A wait varied by up to `jitter` of itself either way, so retries of many messages spread out. */
export function withJitter(ms: number, jitter: number, random: () => number = Math.random): number {
  return Math.max(0, Math.round(ms * (1 + jitter * (2 * random() - 1))));
}

/** Seconds or an HTTP date in a Retry-After header, as ms from `now`; undefined when absent or malformed. */
export function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^[0-9]+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
