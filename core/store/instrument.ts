import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ERRORS, GatehouseError } from '../errors';
import type { KvStore, LockStore, QueueStore, StateStore, StoreBackend } from './types';

const QUEUE_STATES = ['ready', 'delayed', 'leased', 'dead'] as const;

/** The store's metrics, registered once per gateway. */
export class StoreMetrics {
  readonly seconds: Histogram<'op' | 'backend'>;
  readonly failures: Counter<'op' | 'backend'>;

  /**
   * @param read at scrape time: every queue's counts, labelled by queue and state.
   * @param health at scrape time: whether the opened store can serve (undefined: not opened).
   */
  constructor(
    registry: Registry,
    read: () => Promise<[string, Record<string, number>][]>,
    health: () => { backend: string; up: boolean } | undefined,
  ) {
    const registers = [registry];
    // prom-client collects every metric of a scrape at once: both queue gauges share one read
    // of the counts (a stats call per queue) instead of making one each.
    let pending: Promise<[string, Record<string, number>][]> | undefined;
    const queues = () => (pending ??= read().finally(() => (pending = undefined)));
    this.seconds = new Histogram({
      name: 'gatehouse_store_operation_seconds',
      help: 'State store operations by operation (kv.get, queue.enqueue, …) and backend; an enqueue is timed until durable',
      labelNames: ['op', 'backend'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.failures = new Counter({
      name: 'gatehouse_store_operation_errors_total',
      help: 'State store operations that rejected, by operation and backend',
      labelNames: ['op', 'backend'],
      registers,
    });
    new Gauge({
      name: 'gatehouse_store_up',
      help: 'Whether the state store can serve now (1), or its connection is down (0); absent until something opened the store',
      labelNames: ['backend'],
      registers,
      collect() {
        this.reset();
        const h = health();
        if (h) this.set({ backend: h.backend }, h.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gatehouse_store_queue_items',
      help: 'Items in each store queue by state (ready, delayed, leased, dead), read at scrape time',
      labelNames: ['queue', 'state'],
      registers,
      // Read from the one store every process of a cluster shares: the same value each, not a part.
      aggregator: 'max',
      async collect() {
        this.reset();
        for (const [queue, counts] of await queues()) for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state] ?? 0);
      },
    });
    new Gauge({
      name: 'gatehouse_store_queue_oldest_age_seconds',
      help: 'Age of the oldest item of each store queue not yet acked or dead',
      labelNames: ['queue'],
      registers,
      aggregator: 'max',
      async collect() {
        this.reset();
        for (const [queue, counts] of await queues()) this.set({ queue }, (counts.oldestAgeMs ?? 0) / 1000);
      },
    });
  }
}

const KV_OPS = ['get', 'set', 'delete', 'cas', 'list'] as const satisfies readonly (keyof KvStore)[];
const QUEUE_OPS = [
  'enqueue',
  'lease',
  'extend',
  'ack',
  'retry',
  'dead',
  'get',
  'remove',
  'list',
  'deadLetters',
  'replay',
  'purge',
  'stats',
] as const satisfies readonly (keyof QueueStore)[];

/** Backend errors as core reports them: a 503 with the backend's reason (argument errors pass as they are). */
function asStoreError(err: unknown): unknown {
  if (err instanceof GatehouseError || err instanceof TypeError || err instanceof RangeError) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new GatehouseError('GH_ERR_STORE_UNAVAILABLE', `${ERRORS.GH_ERR_STORE_UNAVAILABLE.message}: ${why}`, { cause: err });
}

/**
 * The listed async methods of what `resolve` gives (the opened backend's kv, queue or locks),
 * each timed and counted as `<group>.<method>`.
 */
function timed<T extends object, K extends keyof T & string>(
  resolve: () => T | Promise<T>,
  ops: readonly K[],
  group: string,
  backend: string,
  m: StoreMetrics,
): Pick<T, K> {
  const out: Record<string, unknown> = {};
  for (const name of ops) {
    const labels = { op: `${group}.${name}`, backend };
    out[name] = async (...args: unknown[]) => {
      const end = m.seconds.startTimer(labels);
      try {
        const target = await resolve();
        return await (target[name] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      } catch (err) {
        m.failures.inc(labels);
        throw asStoreError(err);
      } finally {
        end();
      }
    };
  }
  return out as Pick<T, K>;
}

/**
 * The store as core and plugins use it, before it is open too: each operation waits for
 * `resolve` (the host opening the backend), then runs timed by op and backend. `watch` is the
 * host's (it must answer at once).
 */
export function instrumented(
  backend: StateStore['backend'],
  resolve: () => StoreBackend | Promise<StoreBackend>,
  watch: KvStore['watch'],
  m: StoreMetrics,
): StateStore {
  const opened = async () => await resolve();
  return {
    backend,
    kv: { ...timed(async () => (await opened()).kv, KV_OPS, 'kv', backend, m), watch },
    queue: timed(async () => (await opened()).queue, QUEUE_OPS, 'queue', backend, m),
    locks: timed<LockStore, 'acquire'>(async () => (await opened()).locks, ['acquire'], 'lock', backend, m),
  };
}
