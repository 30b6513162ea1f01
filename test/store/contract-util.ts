import type { Test } from 'tap';
import type { StoreBackend } from '../../core/store/types';
import type { StoreSpec } from './child';

export { storeChild } from './child';

/** One case of the contract: a fresh store each. */
export interface ContractCase {
  readonly desc: string;
  run(t: Test, store: StoreBackend, spec: StoreSpec): Promise<void>;
}

/**
 * Clock skew and scheduling slack allowed by time assertions: backends may take time from
 * another host (Redis TIME) than this process's Date.now().
 */
export const SLACK_MS = 150;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until true, at most `ms`; resolves to how long it took (rejects when it never did). */
export async function within(ms: number, fn: () => boolean | Promise<boolean>, every = 10): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await sleep(every);
  }
}
