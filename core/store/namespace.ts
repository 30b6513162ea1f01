import type {
  CasResult,
  DeadLetter,
  EnqueueOptions,
  EnqueueResult,
  Json,
  KvChange,
  KvEntry,
  KvPage,
  KvStore,
  LeasedItem,
  LeaseRef,
  ListOptions,
  Lock,
  LockStore,
  QueueItem,
  QueueStats,
  QueueStore,
  SetOptions,
  StateStore,
} from './types';

/**
 * A view of a store where every key, queue and lock name is under `<ns>/`: what one plugin sees
 * as `scope.store`, so that two plugins cannot read or consume each other's state by accident.
 * Names come back as the plugin wrote them; list cursors stay opaque.
 */
export function namespaced(store: StateStore, ns: string): StateStore {
  const p = `${ns}/`;
  return {
    backend: store.backend,
    kv: new NamespacedKv(store.kv, p),
    queue: new NamespacedQueue(store.queue, p),
    locks: new NamespacedLocks(store.locks, p),
  };
}

const strip = (p: string, name: string): string => (name.startsWith(p) ? name.slice(p.length) : name);

class NamespacedKv implements KvStore {
  constructor(
    private readonly kv: KvStore,
    private readonly p: string,
  ) {}

  private entry<T extends KvEntry>(e: T): T {
    return { ...e, key: strip(this.p, e.key) };
  }

  async get<T extends Json>(key: string): Promise<KvEntry<T> | undefined> {
    const e = await this.kv.get<T>(this.p + key);
    return e && this.entry(e);
  }

  set(key: string, value: Json, options?: SetOptions): Promise<number> {
    return this.kv.set(this.p + key, value, options);
  }

  delete(key: string): Promise<boolean> {
    return this.kv.delete(this.p + key);
  }

  async cas(key: string, expectedVersion: number, value: Json, options?: SetOptions): Promise<CasResult> {
    const r = await this.kv.cas(this.p + key, expectedVersion, value, options);
    return r.ok || !r.current ? r : { ok: false, current: this.entry(r.current) };
  }

  async list(prefix: string, options?: { cursor?: string; limit?: number }): Promise<KvPage> {
    const page = await this.kv.list(this.p + prefix, options);
    return { ...page, entries: page.entries.map((e) => this.entry(e)) };
  }

  watch(prefix: string, onChange: (change: KvChange) => void, onError?: (err: Error) => void, onResume?: () => void): () => void {
    return this.kv.watch(this.p + prefix, (c) => onChange({ ...c, key: strip(this.p, c.key) }), onError, onResume);
  }
}

class NamespacedQueue implements QueueStore {
  constructor(
    private readonly q: QueueStore,
    private readonly p: string,
  ) {}

  private ref(ref: LeaseRef): LeaseRef {
    return { queue: this.p + ref.queue, id: ref.id, token: ref.token };
  }

  enqueue(queue: string, payload: Json, options?: EnqueueOptions): Promise<EnqueueResult> {
    return this.q.enqueue(this.p + queue, payload, options);
  }

  async lease<T extends Json>(queue: string, n: number, leaseMs: number): Promise<LeasedItem<T>[]> {
    const items = await this.q.lease<T>(this.p + queue, n, leaseMs);
    return items.map((i) => ({ ...i, queue }));
  }

  extend(ref: LeaseRef, leaseMs: number): Promise<boolean> {
    return this.q.extend(this.ref(ref), leaseMs);
  }

  ack(ref: LeaseRef, result?: Json): Promise<boolean> {
    return this.q.ack(this.ref(ref), result);
  }

  retry(ref: LeaseRef, delayMs: number, error: string): Promise<boolean> {
    return this.q.retry(this.ref(ref), delayMs, error);
  }

  dead(ref: LeaseRef, error: string): Promise<boolean> {
    return this.q.dead(this.ref(ref), error);
  }

  async get<T extends Json>(queue: string, id: string): Promise<QueueItem<T> | undefined> {
    const item = await this.q.get<T>(this.p + queue, id);
    return item && { ...item, queue };
  }

  remove(queue: string, id: string): Promise<boolean> {
    return this.q.remove(this.p + queue, id);
  }

  async list<T extends Json>(queue: string, options?: ListOptions): Promise<{ items: QueueItem<T>[]; cursor?: string }> {
    const page = await this.q.list<T>(this.p + queue, options);
    return { ...page, items: page.items.map((item) => ({ ...item, queue })) };
  }

  deadLetters(queue: string, options?: { cursor?: string; limit?: number }): Promise<{ items: DeadLetter[]; cursor?: string }> {
    return this.q.deadLetters(this.p + queue, options);
  }

  replay(queue: string, id: string): Promise<boolean> {
    return this.q.replay(this.p + queue, id);
  }

  purge(queue: string, id?: string): Promise<number> {
    return this.q.purge(this.p + queue, id);
  }

  stats(queue: string): Promise<QueueStats> {
    return this.q.stats(this.p + queue);
  }
}

class NamespacedLocks implements LockStore {
  constructor(
    private readonly locks: LockStore,
    private readonly p: string,
  ) {}

  async acquire(name: string, ttlMs: number): Promise<Lock | undefined> {
    const lock = await this.locks.acquire(this.p + name, ttlMs);
    return (
      lock && {
        name,
        token: lock.token,
        renew: (ms?: number) => lock.renew(ms),
        release: () => lock.release(),
        ...(lock.lost ? { lost: lock.lost } : {}),
      }
    );
  }
}
