import type { Logger } from 'pino';
import { GatehouseError } from '../errors';
import type { KvChange, StateStore, Unwatch } from '../store/types';
import { asJson, checkServiceInfo, serviceName, view, type ServiceView, type StoredService } from './info';

const PREFIX = 'registry/services/';

/** Settings of the registry (`registry:` in the config). */
export interface RegistryOptions {
  /** A critical entry (lease lapsed) is removed this long after it turned critical (Consul's DeregisterCriticalServiceAfter). */
  readonly deregisterAfterMs: number;
  /** How often this process looks for entries to remove. */
  readonly reapEveryMs: number;
}

/** One change of the registry, as watchers and the event stream see it. */
export interface RegistryEvent {
  readonly type: 'put' | 'delete';
  readonly name: string;
  readonly index: number;
  readonly service?: ServiceView;
}

/**
 * The service registry (PhysarumSM's, with leases and watches), kept in the store under core's
 * namespace so that every gatehouse on the same store shares it. Writes go to the store; this
 * process learns of every change, its own and others', through the store's watch, which keeps
 * {@link index} (the revision of the last change seen, Consul's X-Consul-Index) for blocking reads.
 */
export class ServiceRegistry {
  /** The store revision of the last change this process has seen. */
  index = 0;
  private unwatch?: Unwatch;
  private reaper?: NodeJS.Timeout;
  private readonly listeners = new Set<(e: RegistryEvent) => void>();
  private readonly resyncs = new Set<() => void>();
  private ops?: (op: string, outcome: string) => void;

  constructor(
    private readonly store: StateStore,
    private readonly options: RegistryOptions,
    private readonly log: Logger,
  ) {}

  /** Count operations by outcome (the gateway's metrics). */
  countWith(ops: (op: string, outcome: string) => void): void {
    this.ops = ops;
  }

  /** Load the current index, follow changes, start removing lapsed entries. */
  async start(): Promise<void> {
    this.unwatch = this.store.kv.watch(
      PREFIX,
      (c) => this.changed(c),
      (err) => this.log.warn({ err }, 'registry watch interrupted'),
      () => void this.resync(),
    );
    for await (const e of this.entries('')) this.index = Math.max(this.index, e.index);
    this.reaper = setInterval(() => void this.reap(), this.options.reapEveryMs);
    this.reaper.unref();
  }

  stop(): void {
    this.unwatch?.();
    if (this.reaper) clearInterval(this.reaper);
    this.listeners.clear();
    this.resyncs.clear();
  }

  /**
   * The watch is back after a loss (Redis went away): changes made meanwhile were not seen.
   * List again: an entry newer than {@link index} is told to the listeners as a put, and the
   * resync listeners (the upstreams following entries) read their entries again, which also
   * catches the deletes that a listing cannot show.
   */
  private async resync(): Promise<void> {
    try {
      const seen = this.index;
      let newer = 0;
      for await (const s of this.entries('')) {
        if (s.index <= seen) continue;
        newer++;
        this.index = Math.max(this.index, s.index);
        for (const l of this.listeners) l({ type: 'put', name: s.name, index: s.index, service: s });
      }
      for (const r of this.resyncs) r();
      this.log.info({ newer }, 'registry watch resumed; entries read again');
    } catch (err) {
      this.log.warn({ err }, 'registry watch resumed, but the entries could not be read again');
    }
  }

  /** Call `listener` after each {@link resync} (until the returned function is called). */
  onResync(listener: () => void): () => void {
    this.resyncs.add(listener);
    return () => this.resyncs.delete(listener);
  }

  private changed(c: KvChange): void {
    this.index = Math.max(this.index, c.revision);
    const name = c.key.slice(PREFIX.length);
    const event: RegistryEvent =
      c.type === 'set'
        ? { type: 'put', name, index: c.revision, service: view(c.value as unknown as StoredService, c.revision) }
        : { type: 'delete', name, index: c.revision };
    for (const l of this.listeners) l(event);
  }

  /** Call `listener` for every change until the returned function is called. */
  subscribe(listener: (e: RegistryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Add or overwrite (the original's add was a put). @throws GatehouseError GH_ERR_REGISTRY_INVALID */
  async put(rawName: string, body: unknown): Promise<ServiceView> {
    const name = serviceName(rawName);
    let info;
    try {
      info = checkServiceInfo(body);
    } catch (err) {
      this.ops?.('put', 'invalid');
      throw err;
    }
    const now = Date.now();
    const prev = await this.store.kv.get(PREFIX + name);
    const stored: StoredService = {
      name,
      info,
      registeredAt: (prev?.value as unknown as StoredService | undefined)?.registeredAt ?? now,
      renewedAt: now,
    };
    const version = await this.store.kv.set(PREFIX + name, asJson(stored));
    this.index = Math.max(this.index, version);
    this.ops?.('put', 'ok');
    return view(stored, version, now);
  }

  /** One entry by exact name (trimmed); undefined when absent (a prefix is not a match). */
  async get(rawName: string): Promise<ServiceView | undefined> {
    const entry = await this.store.kv.get(PREFIX + serviceName(rawName));
    this.ops?.('get', entry ? 'ok' : 'not-found');
    return entry && view(entry.value as unknown as StoredService, entry.version);
  }

  /** Entries in name order, optionally by name prefix and tag, a page at a time. */
  async list(
    options: { prefix?: string; tag?: string; cursor?: string; limit?: number } = {},
  ): Promise<{ services: ServiceView[]; cursor?: string }> {
    const page = await this.store.kv.list(PREFIX + (options.prefix ?? ''), { cursor: options.cursor, limit: options.limit });
    const services = page.entries
      .map((e) => view(e.value as unknown as StoredService, e.version))
      .filter((s) => options.tag === undefined || (s.info.tags ?? []).includes(options.tag));
    this.ops?.('list', 'ok');
    return { services, cursor: page.cursor };
  }

  /** Every entry under a name prefix, all pages. */
  async *entries(prefix: string): AsyncGenerator<ServiceView> {
    let cursor: string | undefined;
    do {
      const page = await this.store.kv.list(PREFIX + prefix, { cursor, limit: 1000 });
      for (const e of page.entries) yield view(e.value as unknown as StoredService, e.version);
      cursor = page.cursor;
    } while (cursor);
  }

  /** Remove; true when there was an entry. */
  async delete(rawName: string): Promise<boolean> {
    const deleted = await this.store.kv.delete(PREFIX + serviceName(rawName));
    this.ops?.('delete', deleted ? 'ok' : 'not-found');
    return deleted;
  }

  /** Renew the lease (`renewedAt` now). @throws GatehouseError GH_ERR_REGISTRY_NOT_FOUND */
  async heartbeat(rawName: string): Promise<ServiceView> {
    const name = serviceName(rawName);
    // A compare-and-set loop: a concurrent put is not undone by a heartbeat that read before it.
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.store.kv.get(PREFIX + name);
      if (!entry) {
        this.ops?.('heartbeat', 'not-found');
        throw new GatehouseError('GH_ERR_REGISTRY_NOT_FOUND', `No service named ${JSON.stringify(name)}`);
      }
      const stored = { ...(entry.value as unknown as StoredService), renewedAt: Date.now() };
      const r = await this.store.kv.cas(PREFIX + name, entry.version, asJson(stored));
      if (r.ok) {
        this.ops?.('heartbeat', 'ok');
        return view(stored, r.version);
      }
    }
    this.ops?.('heartbeat', 'conflict');
    throw new GatehouseError('GH_ERR_STORE_UNAVAILABLE', `The entry ${JSON.stringify(name)} kept changing; heartbeat not recorded`);
  }

  /**
   * Resolve once the registry changed past `index` (at once if it already has), or after
   * `waitMs`: Consul's blocking query. Resolves to the index then.
   */
  waitPast(index: number, waitMs: number, signal?: AbortSignal): Promise<number> {
    if (this.index > index || signal?.aborted) return Promise.resolve(this.index);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', done);
        resolve(this.index);
      };
      const unsubscribe = this.subscribe(() => {
        if (this.index > index) done();
      });
      const timer = setTimeout(done, waitMs);
      signal?.addEventListener('abort', done);
    });
  }

  /** Remove entries critical for longer than deregisterAfterMs (each process may; a cas keeps it to one write). */
  private async reap(): Promise<void> {
    try {
      const now = Date.now();
      for await (const s of this.entries('')) {
        const ttl = s.info.ttlMs;
        if (ttl === undefined || s.renewedAt + ttl + this.options.deregisterAfterMs > now) continue;
        // Read again just before: a heartbeat or put since then keeps the entry (the store has
        // no delete-if-version, so one landing between this read and the delete is lost, and
        // its next heartbeat gets a 404 and registers again).
        const fresh = await this.store.kv.get(PREFIX + s.name);
        if (fresh?.version === s.index && (await this.store.kv.delete(PREFIX + s.name))) {
          this.ops?.('deregister', 'ok');
          this.log.info({ service: s.name, criticalForMs: now - s.renewedAt - ttl }, 'registry: removed a service whose lease lapsed');
        }
      }
    } catch (err) {
      this.log.warn({ err }, 'registry: lapsed entries could not be checked');
    }
  }
}
