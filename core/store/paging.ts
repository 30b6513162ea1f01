import type { ItemState } from './types';

/** A page's size as both backends bound it: default 100, 1 to 1000. */
export function pageLimit(limit: number | undefined): number {
  return Math.min(1000, Math.max(1, Math.floor(limit ?? 100)));
}

/**
 * The one-letter flags a backend's list query takes for each state it can list: r ready,
 * y delayed, l leased, d dead; no state at all lists the open ones (`OPEN_STATES`).
 */
const LIST_STATES: Readonly<Record<Exclude<ItemState, 'acked'>, string>> = { ready: 'r', delayed: 'y', leased: 'l', dead: 'd' };

/** The flags of every open item: what `list` gives without a state. */
const OPEN_STATES = 'ryl';

/** The flags for `state`, or a TypeError for a state that cannot be listed. */
export function listFlags(state: string | undefined): string {
  if (state === undefined) return OPEN_STATES;
  const flags = (LIST_STATES as Record<string, string>)[state];
  if (flags === undefined)
    throw new TypeError(`queue.list: state must be one of ${Object.keys(LIST_STATES).join(', ')}, got ${JSON.stringify(state)}`);
  return flags;
}
