/**
 * The state store's contract: one interface, two backends (SQLite embedded, Redis shared), one
 * test suite (test/store/contract.ts) run on both. Every method is async and every promise that
 * resolves after a write means the write is durable (on disk under `durability: strict`).
 *
 * Values are JSON (what `JSON.stringify` round-trips). Keys, queue names and lock names are
 * strings of 1–512 characters; plugins see them inside their own namespace (`scope.store`).
 */

/** A JSON value as stored and returned. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One key's current value. */
export interface KvEntry<T extends Json = Json> {
  readonly key: string;
  readonly value: T;
  /**
   * The store-wide revision of the write that made this value: it grows with every write to any
   * key of the store (like etcd's mod_revision, Consul's ModifyIndex), so versions of one key only
   * grow and `cas` can compare them. Never 0 (0 means "absent" to `cas`).
   */
  readonly version: number;
  /** Epoch ms after which the entry is gone; absent without a TTL. */
  readonly expiresAt?: number;
}

/** Options of {@link KvStore.set} and {@link KvStore.cas}. */
export interface SetOptions {
  /** Remove the entry this long after the write (a later write without ttlMs keeps no TTL). */
  readonly ttlMs?: number;
}

/** What `cas` did. */
export type CasResult = { readonly ok: true; readonly version: number } | { readonly ok: false; readonly current?: KvEntry };

/** One page of {@link KvStore.list}. */
export interface KvPage {
  /** Entries in key order (byte order of UTF-8), expired ones left out. */
  readonly entries: KvEntry[];
  /** Pass back to get the next page; absent on the last one. */
  readonly cursor?: string;
}

/** A change seen by {@link KvStore.watch}. Expiry of a TTL is not reported. */
export interface KvChange {
  readonly type: 'set' | 'delete';
  readonly key: string;
  /** The revision of this change (a delete takes a revision too). */
  readonly revision: number;
  /** The new value, for `set`. */
  readonly value?: Json;
}

/** Stops a watch; calling it twice is harmless. */
export type Unwatch = () => void;

/** Keys and values with versions, TTLs and change notification. */
export interface KvStore {
  get<T extends Json = Json>(key: string): Promise<KvEntry<T> | undefined>;
  /** Write unconditionally; resolves to the new version. */
  set(key: string, value: Json, options?: SetOptions): Promise<number>;
  /** Remove; true when there was a live entry. */
  delete(key: string): Promise<boolean>;
  /** Write only if the key's version is `expectedVersion` (0: only if absent or expired). */
  cas(key: string, expectedVersion: number, value: Json, options?: SetOptions): Promise<CasResult>;
  /** Entries whose key starts with `prefix`, in key order, `limit` (default 100, max 1000) at a time. */
  list(prefix: string, options?: { cursor?: string; limit?: number }): Promise<KvPage>;
  /**
   * Call `onChange` for each set or delete of a key under `prefix`, by this or any other process
   * on the same store, within 1 s, in revision order. Delivery is best effort across a lost
   * connection: `onError` says changes may be missed from now on, and `onResume` that they are
   * delivered again (changes between the two may have been missed: a watcher that must not miss
   * anything re-lists then). A backend that never misses changes never calls either for that.
   */
  watch(prefix: string, onChange: (change: KvChange) => void, onError?: (err: Error) => void, onResume?: () => void): Unwatch;
}

/** Options of {@link QueueStore.enqueue}. */
export interface EnqueueOptions {
  /**
   * The item's id (1–512 characters); by default a random one. An id already in the queue, or
   * acked or dead within its `retainMs`, is not enqueued again: the call resolves `duplicate: true`.
   */
  readonly id?: string;
  /** Not handed out before this many ms from now. Default 0. */
  readonly delayMs?: number;
  /**
   * Items of one group are handed out one at a time, in enqueue order: the next is due only once
   * the one before it is acked, dead or removed (SQS FIFO's message groups). A retried item keeps
   * its place at the head of its group. Absent: no ordering.
   */
  readonly group?: string;
  /** How long an acked or dead item's id and result are kept after it ends (for dedupe and `get`). Default 0. */
  readonly retainMs?: number;
}

/** What enqueue did. */
export interface EnqueueResult {
  readonly id: string;
  /** True when the id was already known and nothing was written. */
  readonly duplicate: boolean;
}

/** Identifies one lease of one item; ack, retry, dead and extend need the lease they act under. */
export interface LeaseRef {
  readonly queue: string;
  readonly id: string;
  /** Unique per lease: a consumer whose lease expired and was re-leased cannot ack the new one. */
  readonly token: string;
}

/** An item handed out by {@link QueueStore.lease}. */
export interface LeasedItem<T extends Json = Json> extends LeaseRef {
  readonly payload: T;
  /** How many times it was leased, this lease included (1 the first time). */
  readonly attempts: number;
  readonly enqueuedAt: number;
  /** Epoch ms when this lease expires and the item is due again. */
  readonly leaseUntil: number;
  readonly group?: string;
  /** The error passed to the last `retry`, or the reason of an expired lease. */
  readonly lastError?: string;
}

/** The states an item passes through. */
export type ItemState = 'ready' | 'delayed' | 'leased' | 'acked' | 'dead';

/** An item as {@link QueueStore.get} sees it. */
export interface QueueItem<T extends Json = Json> {
  readonly queue: string;
  readonly id: string;
  /** `ready` also covers an item waiting behind an earlier one of its group. */
  readonly state: ItemState;
  readonly payload: T;
  readonly attempts: number;
  readonly enqueuedAt: number;
  /** Epoch ms it is (or was) due: for delayed items, when; for leased ones, when the lease ends. */
  readonly dueAt: number;
  readonly group?: string;
  readonly lastError?: string;
  /** What `ack` was given. */
  readonly result?: Json;
  /** Epoch ms it was acked or went dead. */
  readonly endedAt?: number;
}

/** Which items {@link QueueStore.list} pages through. */
export interface ListOptions {
  /** Only items in this state; without it every open item (ready, delayed and leased). */
  readonly state?: Exclude<ItemState, 'acked'>;
  readonly cursor?: string;
  readonly limit?: number;
}

/** A dead letter as listed. */
export interface DeadLetter<T extends Json = Json> {
  readonly id: string;
  readonly payload: T;
  readonly attempts: number;
  readonly enqueuedAt: number;
  readonly deadAt: number;
  readonly error: string;
  readonly group?: string;
}

/** Counts of one queue. */
export interface QueueStats {
  readonly ready: number;
  readonly delayed: number;
  readonly leased: number;
  readonly dead: number;
  /** Age in ms of the oldest item not yet acked or dead (ready, delayed or leased); 0 when none. */
  readonly oldestAgeMs: number;
}

/** Durable queues with leases, retries, dead letters and dedupe. */
export interface QueueStore {
  /** Resolves once the item is durable (concurrent enqueues share one commit). */
  enqueue(queue: string, payload: Json, options?: EnqueueOptions): Promise<EnqueueResult>;
  /**
   * Hand out up to `n` due items (oldest due first), each leased for `leaseMs`: no other call, in
   * any process, gets an item while its lease is live; an expired lease makes it due again (its
   * attempt count kept, `lastError` "lease expired").
   */
  lease<T extends Json = Json>(queue: string, n: number, leaseMs: number): Promise<LeasedItem<T>[]>;
  /** Keep the lease another `leaseMs` from now; false when the lease is no longer this one's. */
  extend(ref: LeaseRef, leaseMs: number): Promise<boolean>;
  /** Done: the item ends (kept `retainMs` with its result). False when the lease was lost. */
  ack(ref: LeaseRef, result?: Json): Promise<boolean>;
  /** Due again after `delayMs`, with `error` as its lastError. False when the lease was lost. */
  retry(ref: LeaseRef, delayMs: number, error: string): Promise<boolean>;
  /** Give up: the item becomes a dead letter. False when the lease was lost. */
  dead(ref: LeaseRef, error: string): Promise<boolean>;
  /** One item in any state, or undefined (never enqueued, removed, or past its retention). */
  get<T extends Json = Json>(queue: string, id: string): Promise<QueueItem<T> | undefined>;
  /** Forget an item in any state (a live lease on it can no longer ack); true when there was one. */
  remove(queue: string, id: string): Promise<boolean>;
  /**
   * Items of a queue, for admin views: open ones (ready, delayed, leased) in enqueue order, or only
   * those of `state` (dead letters: oldest death first, as {@link deadLetters}); acked items are
   * left out (they are kept only for dedupe). A page holds at most
   * `limit` items (default 100, at most 1000); pass its `cursor` back for the next.
   */
  list<T extends Json = Json>(queue: string, options?: ListOptions): Promise<{ items: QueueItem<T>[]; cursor?: string }>;
  /** Dead letters, oldest death first. */
  deadLetters(queue: string, options?: { cursor?: string; limit?: number }): Promise<{ items: DeadLetter[]; cursor?: string }>;
  /** A dead letter becomes ready again, attempts reset to 0; false when there is no such dead letter. */
  replay(queue: string, id: string): Promise<boolean>;
  /** Remove dead letters: one by id, or all of the queue; resolves to how many. */
  purge(queue: string, id?: string): Promise<number>;
  stats(queue: string): Promise<QueueStats>;
}

/** A held lock. */
export interface Lock {
  readonly name: string;
  readonly token: string;
  /** Keep it `ttlMs` (default: the acquiring ttl) from now; false when it was lost (expired and taken). */
  renew(ttlMs?: number): Promise<boolean>;
  /** Let go; harmless when already lost. */
  release(): Promise<void>;
  /**
   * Aborted when the backend can no longer vouch that this process holds the lock before the
   * next renewal says so (Redis: the connection closed, and the server answering next may have
   * lost the key). The holder stops its work at once. Absent: never (a local file).
   */
  readonly lost?: AbortSignal;
}

/** Named leases held by one process at a time, for singleton work. */
export interface LockStore {
  /** The lock if it was free (or expired), else undefined. */
  acquire(name: string, ttlMs: number): Promise<Lock | undefined>;
}

/** What a plugin (and core) reaches as the store; `scope.store` is one namespaced by plugin. */
export interface StateStore {
  readonly backend: 'sqlite' | 'redis';
  readonly kv: KvStore;
  readonly queue: QueueStore;
  readonly locks: LockStore;
}

/** A backend as core owns it: opened at start, closed at shutdown. */
export interface StoreBackend extends StateStore {
  /** Connect or open the file, create tables, check durability settings; rejects with a clear message. */
  open(): Promise<void>;
  /** Finish pending writes, stop watchers and timers, close connections; bounded by the caller. */
  close(): Promise<void>;
  /** Known queue names, for the metrics collector. */
  queues(): Promise<string[]>;
  /**
   * Whether operations can reach the data now: `true`, or why not (a Redis connection that is
   * down and reconnecting). Absent: always (an embedded file).
   */
  health?(): true | string;
}
