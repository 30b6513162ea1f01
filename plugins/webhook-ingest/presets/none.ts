import type { Verdict, Verifier } from './types';

const UNSIGNED: Verdict = Object.freeze({ signed: false });

/** No verification: for senders that sign nothing, behind a network boundary that says who they are. */
export function none(): Verifier {
  return { verify: () => UNSIGNED };
}
