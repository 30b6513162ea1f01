import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ERRORS, GatehouseError } from '../errors';
import { bounded } from '../plugin/guard';
import { instrumented, StoreMetrics } from './instrument';
import { namespaced } from './namespace';
import { describeSpec, type StoreSpec } from './spec';
import type { KvChange, StateStore, StoreBackend, Unwatch } from './types';

/** A backend class as core constructs it (loaded on demand: a SQLite deployment never loads ioredis). */
type BackendClass = new (options: Record<string, unknown>) => StoreBackend;

/* eslint-disable @typescript-eslint/no-require-imports -- loaded when chosen, not at import */
function createBackend(spec: StoreSpec, logger: Logger): StoreBackend {
  if (spec.backend === 'sqlite') {
    const { SqliteStore } = require('./sqlite') as { SqliteStore: BackendClass };
    return new SqliteStore({ path: spec.path, durability: spec.durability, logger });
  }
  const { RedisStore } = require('./redis') as { RedisStore: BackendClass };
  return new RedisStore({
    url: spec.url,
    durability: spec.durability,
    prefix: spec.prefix,
    connectTimeoutMs: spec.connectTimeoutMs,
    commandTimeoutMs: spec.commandTimeoutMs,
    logger,
  });
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** What {@link StoreHost.health} says. */
export interface StoreHealth {
  readonly backend: StoreBackend['backend'];
  readonly up: boolean;
  /** Why not, when down. */
  readonly reason?: string;
}

/** Time `open()` may take besides Redis's own connect timeout (creating tables, checking CONFIG). */
const OPEN_SLACK_MS = 5000;

/**
 * The gateway's state store: one per Gateway, surviving reloads. It is opened only when
 * something needs it (a plugin took `scope.store` in `create`, or declared a singleton task), so a
 * plain proxy writes no file; `open()` before plugins start makes a store that cannot be opened
 * refuse the start. Operations before that wait for the open.
 */
export class StoreHost {
  /** Set once something took the store: the next `openIfNeeded` opens it. */
  needed = false;
  private backend?: StoreBackend;
  private opening?: Promise<StoreBackend>;
  private closed = false;
  private readonly metrics: StoreMetrics;
  private readonly shared: StateStore;
  private readonly queueNames = new Set<string>();

  constructor(
    readonly spec: StoreSpec,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.metrics = new StoreMetrics(
      registry,
      () => this.queueCounts(),
      () => this.health(),
    );
    this.shared = instrumented(spec.backend, () => this.open(), this.watch.bind(this), this.metrics);
  }

  /** The store under `<ns>/`, for one plugin; taking it marks the store as needed. */
  forPlugin(ns: string): StateStore {
    this.needed = true;
    return namespaced(this.shared, ns);
  }

  /** The store under core's own namespace (`_core/`, which no plugin name can take). */
  forCore(): StateStore {
    this.needed = true;
    return namespaced(this.shared, '_core');
  }

  /** A reload's `store:`: the same, or it is refused (the store is the gateway's, not a generation's). @throws GatehouseError GH_ERR_RELOAD_FAILED */
  assertSame(next: StoreSpec): void {
    if (JSON.stringify(next) === JSON.stringify(this.spec)) return;
    throw new GatehouseError(
      'GH_ERR_RELOAD_FAILED',
      `${ERRORS.GH_ERR_RELOAD_FAILED.message}: store: changed from ${describeSpec(this.spec)} to ${describeSpec(next)}; a new store takes a restart`,
    );
  }

  /** Open now if needed (at start and reload, before plugins start). @throws GatehouseError GH_ERR_STORE_OPEN */
  async openIfNeeded(): Promise<void> {
    if (this.needed) await this.open();
  }

  /** The opened backend; the first call opens it, a failed open is tried again by the next call. */
  open(): Promise<StoreBackend> {
    if (this.backend) return Promise.resolve(this.backend);
    if (this.closed)
      return Promise.reject(
        new GatehouseError('GH_ERR_STORE_UNAVAILABLE', `${ERRORS.GH_ERR_STORE_UNAVAILABLE.message}: the gateway is closing`),
      );
    this.opening ??= this.openBackend().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async openBackend(): Promise<StoreBackend> {
    const what = describeSpec(this.spec);
    let backend: StoreBackend | undefined;
    try {
      backend = createBackend(this.spec, this.logger.child({ store: this.spec.backend }));
      const b = backend;
      const limit = (this.spec.backend === 'redis' ? this.spec.connectTimeoutMs : 0) + OPEN_SLACK_MS;
      if (!(await bounded(() => b.open(), limit))) throw new Error(`did not open within ${limit} ms`);
    } catch (cause) {
      void backend?.close().catch(() => undefined);
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new GatehouseError('GH_ERR_STORE_OPEN', `${ERRORS.GH_ERR_STORE_OPEN.message}: store ${what}: ${why}`, { cause });
    }
    if (this.closed) {
      await backend.close();
      throw new GatehouseError('GH_ERR_STORE_UNAVAILABLE', `${ERRORS.GH_ERR_STORE_UNAVAILABLE.message}: the gateway is closing`);
    }
    this.backend = backend;
    this.logger.info({ store: what }, 'state store open');
    return backend;
  }

  /** Watch at once; before the store is open the subscription starts when it opens. */
  private watch(prefix: string, onChange: (c: KvChange) => void, onError?: (err: Error) => void, onResume?: () => void): Unwatch {
    let stop: Unwatch | undefined;
    let cancelled = false;
    const subscribe = (b: StoreBackend) => {
      if (!cancelled) stop = b.kv.watch(prefix, onChange, onError, onResume);
    };
    if (this.backend) subscribe(this.backend);
    else this.open().then(subscribe, (err: unknown) => onError?.(err instanceof Error ? err : new Error(String(err))));
    return () => {
      cancelled = true;
      stop?.();
    };
  }

  /**
   * Whether the store can serve now, once something opened it (undefined before: nothing uses
   * it, or it opens at the first use). `/readyz` and `gatehouse_store_up` report it.
   */
  health(): StoreHealth | undefined {
    const b = this.backend;
    if (!b) return undefined;
    const verdict = b.health?.() ?? true;
    return verdict === true ? { backend: b.backend, up: true } : { backend: b.backend, up: false, reason: verdict };
  }

  /** Counts of every queue this store knows, for the metrics scrape (none before it is open). */
  private async queueCounts(): Promise<[string, Record<string, number>][]> {
    const b = this.backend;
    if (!b) return [];
    try {
      for (const q of await b.queues()) this.queueNames.add(q);
      const out: [string, Record<string, number>][] = [];
      for (const q of this.queueNames) out.push([q, { ...(await b.queue.stats(q)) }]);
      return out;
    } catch (err) {
      this.logger.warn({ err }, 'state store queue counts could not be read for /metrics');
      return [];
    }
  }

  /** Close within `timeoutMs` (after the plugins stopped); later operations fail with GH_ERR_STORE_UNAVAILABLE. */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    const b = this.backend ?? (await this.opening?.catch(() => undefined));
    this.backend = undefined;
    if (!b) return;
    try {
      if (!(await bounded(() => b.close(), timeoutMs)))
        this.logger.error({ timeoutMs }, 'state store did not close within server.pluginTimeout');
    } catch (err) {
      this.logger.error({ err }, 'state store close failed');
    }
  }
}
