import type { Json } from '../types';

/** A key, queue, lock or id name: a string of 1–512 characters (the contract's limit). */
export function name(kind: string, value: string): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 512) {
    throw new TypeError(`store ${kind} must be a string of 1-512 characters, got ${JSON.stringify(value)?.slice(0, 40)}`);
  }
  return value;
}

/** JSON text of a value; throws on what JSON cannot hold (undefined, functions, cycles). */
export function json(value: Json): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('store values must be JSON');
  return text;
}

/** Whole ms >= 0 (rounded up, so a lease or TTL is never shorter than asked). */
export function ms(kind: string, value: number | undefined, dflt = 0): number {
  const v = value ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`store ${kind} must be a number of ms >= 0, got ${value}`);
  return Math.ceil(v);
}
