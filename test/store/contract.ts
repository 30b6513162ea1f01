import type { Test } from 'tap';
import type { StoreBackend } from '../../core/store/types';
import type { StoreSpec } from './child';
import type { ContractCase } from './contract-util';
import { kvCases } from './contract-kv';
import { queueCases } from './contract-queue';
import { lockCases } from './contract-locks';

export type { StoreSpec } from './child';

/** A backend the contract runs on. */
export interface BackendUnderTest {
  readonly name: string;
  /** An open, empty store (its close registered with t.teardown) and how a child process opens it. */
  fresh(t: Test): Promise<{ store: StoreBackend; spec: StoreSpec }>;
}

/**
 * The state store's contract (core/store/types.ts), backend-independent: one subtest per case,
 * each on a fresh, empty store. Cases that need several processes start test/store/store-child.js
 * with the backend's spec.
 */
export function storeContract(t: Test, backend: BackendUnderTest): void {
  const cases: ContractCase[] = [...kvCases, ...queueCases, ...lockCases];
  for (const c of cases) {
    t.test(`${backend.name}: ${c.desc}`, async (t) => {
      const { store, spec } = await backend.fresh(t);
      await c.run(t, store, spec);
    });
  }
}
