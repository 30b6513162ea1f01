import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type {
  DeadLetter,
  EnqueueOptions,
  EnqueueResult,
  ItemState,
  Json,
  LeaseRef,
  LeasedItem,
  ListOptions,
  QueueItem,
  QueueStats,
  QueueStore,
} from '../types';
import { json, ms, name } from './check';
import type { Scripts } from './scripts';
import { listFlags, pageLimit } from '../paging';

const STATES: Record<string, ItemState> = { q: 'ready', w: 'ready', l: 'leased', a: 'acked', d: 'dead' };

/** Enqueues per script call at most (a bigger call would hold Redis's one thread longer). */
const BATCH = 500;

interface PendingEnqueue {
  readonly args: (string | number)[];
  resolve(r: EnqueueResult): void;
  reject(err: Error): void;
}

/**
 * Tells this process's own enqueue, should ioredis resend it after a lost reply (ioredis 6 rejects
 * commands in flight at a disconnect instead), from another's with the same id.
 */
const NONCE = randomUUID().slice(0, 8);
let sent = 0;

/**
 * Queues as Lua scripts over hashes and sorted sets (layout in lua-queue.ts): every operation
 * is one atomic script timed by the server's clock, so leases hold across hosts.
 */
export class RedisQueue implements QueueStore {
  private pending: PendingEnqueue[] = [];
  private flushing = false;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly client: Redis & Scripts,
    private readonly prefix: string,
  ) {}

  /** The base key of a queue; the name is escaped so that no name's keys reach into another's. */
  private base(queue: string): string {
    return `${this.prefix}q:${encodeURIComponent(name('queue', queue))}:`;
  }

  /** Known queue names. */
  async names(): Promise<string[]> {
    return (await this.client.smembers(`${this.prefix}queues`)).sort();
  }

  /**
   * Enqueues made in one turn of the event loop go to Redis as one script call: one command, so
   * one AOF write and one fsync for all of them (separate pipelined commands are read 16 KiB at a
   * time and fsynced per read).
   */
  enqueue(queue: string, payload: Json, options?: EnqueueOptions): Promise<EnqueueResult> {
    let args: (string | number)[];
    try {
      const id = options?.id !== undefined ? name('id', options.id) : randomUUID();
      const group = options?.group !== undefined ? name('group', options.group) : '';
      const nonce = `${NONCE}${(sent++).toString(36)}`;
      args = [this.base(queue), id, json(payload), ms('delayMs', options?.delayMs), group, ms('retainMs', options?.retainMs), queue, nonce];
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise<EnqueueResult>((resolve, reject) => {
      this.pending.push({ args, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushing = false;
    const all = this.pending;
    this.pending = [];
    for (let from = 0; from < all.length; from += BATCH) {
      const batch = all.slice(from, from + BATCH);
      const call = this.client.ghQEnqueue(`${this.prefix}queues`, ...batch.flatMap((p) => p.args)).then(
        (written) => {
          const w = written as number[];
          batch.forEach((p, i) => p.resolve({ id: String(p.args[1]), duplicate: w[i] === 0 }));
        },
        (err: Error) => batch.forEach((p) => p.reject(err)),
      );
      this.inflight.add(call);
      void call.finally(() => this.inflight.delete(call));
    }
  }

  /** Send what is waiting for the next turn now and wait for every enqueue sent (part of close). */
  async drain(): Promise<void> {
    if (this.pending.length > 0) this.flush();
    await Promise.allSettled([...this.inflight]);
  }

  async lease<T extends Json = Json>(queue: string, n: number, leaseMs: number): Promise<LeasedItem<T>[]> {
    const count = Math.min(10_000, Math.max(0, Math.floor(n)));
    if (count === 0) return [];
    const tokens = Array.from({ length: count }, () => randomUUID());
    const flat = (await this.client.ghQLease(this.base(queue), count, Math.max(1, ms('leaseMs', leaseMs)), ...tokens)) as (
      string | number | null
    )[];
    const out: LeasedItem<T>[] = [];
    for (let i = 0; i < flat.length; i += 8) {
      const item: { -readonly [K in keyof LeasedItem<T>]: LeasedItem<T>[K] } = {
        queue,
        id: String(flat[i]),
        token: String(flat[i + 1]),
        payload: JSON.parse(String(flat[i + 2])) as T,
        attempts: Number(flat[i + 3]),
        enqueuedAt: Number(flat[i + 4]),
        leaseUntil: Number(flat[i + 5]),
      };
      if (flat[i + 6] !== null) item.group = String(flat[i + 6]);
      if (flat[i + 7] !== null) item.lastError = String(flat[i + 7]);
      out.push(item);
    }
    return out;
  }

  async extend(ref: LeaseRef, leaseMs: number): Promise<boolean> {
    return ((await this.client.ghQSettle(this.base(ref.queue), ref.id, ref.token, 'x', Math.max(1, ms('leaseMs', leaseMs)))) as number) > 0;
  }

  async ack(ref: LeaseRef, result?: Json): Promise<boolean> {
    const res = result === undefined ? '' : json(result);
    return (await this.client.ghQSettle(this.base(ref.queue), ref.id, ref.token, 'a', res)) === 1;
  }

  async retry(ref: LeaseRef, delayMs: number, error: string): Promise<boolean> {
    return (await this.client.ghQSettle(this.base(ref.queue), ref.id, ref.token, 'r', ms('delayMs', delayMs), String(error))) === 1;
  }

  async dead(ref: LeaseRef, error: string): Promise<boolean> {
    return (await this.client.ghQSettle(this.base(ref.queue), ref.id, ref.token, 'd', String(error))) === 1;
  }

  async get<T extends Json = Json>(queue: string, id: string): Promise<QueueItem<T> | undefined> {
    const flat = (await this.client.ghQGet(this.base(queue), id)) as (string | number)[];
    if (flat.length === 0) return undefined;
    return itemOf<T>(queue, id, Number(flat[0]), flat.slice(1));
  }

  async list<T extends Json = Json>(queue: string, options?: ListOptions): Promise<{ items: QueueItem<T>[]; cursor?: string }> {
    const limit = pageLimit(options?.limit);
    const flags = listFlags(options?.state);
    const cursor = options?.cursor ?? '';
    const cut = cursor.indexOf(':');
    const [score, member] = cut < 0 ? ['', ''] : [cursor.slice(0, cut), cursor.slice(cut + 1)];
    const reply = (await this.client.ghQList(this.base(queue), flags, score, member, limit)) as unknown[];
    const [now, more, lastScore, lastMember] = reply as [number, number, string, string];
    const items: QueueItem<T>[] = [];
    for (let i = 4; i < reply.length; i += 2) {
      items.push(itemOf<T>(queue, String(reply[i]).slice(15), now, reply[i + 1] as (string | number)[]));
    }
    return more === 1 ? { items, cursor: `${lastScore}:${lastMember}` } : { items };
  }

  async remove(queue: string, id: string): Promise<boolean> {
    return (await this.client.ghQRemove(this.base(queue), id)) === 1;
  }

  async deadLetters(queue: string, options?: { cursor?: string; limit?: number }): Promise<{ items: DeadLetter[]; cursor?: string }> {
    const limit = pageLimit(options?.limit);
    const [score, seq] = options?.cursor?.split(':') ?? ['', ''];
    const flat = (await this.client.ghQDeadList(this.base(queue), score ?? '', seq ?? '', limit + 1)) as (string | number | null)[];
    const items: DeadLetter[] = [];
    let last = '';
    for (let i = 0; i < flat.length && items.length < limit; i += 7) {
      const member = String(flat[i]);
      const d: { -readonly [K in keyof DeadLetter]: DeadLetter[K] } = {
        id: member.slice(15),
        payload: JSON.parse(String(flat[i + 2])) as Json,
        attempts: Number(flat[i + 3]),
        enqueuedAt: Number(flat[i + 4]),
        deadAt: Number(flat[i + 1]),
        error: String(flat[i + 5]),
      };
      if (flat[i + 6] !== null) d.group = String(flat[i + 6]);
      items.push(d);
      last = `${d.deadAt}:${Number(member.slice(0, 15))}`;
    }
    return flat.length / 7 > limit ? { items, cursor: last } : { items };
  }

  async replay(queue: string, id: string): Promise<boolean> {
    return (await this.client.ghQReplay(this.base(queue), id)) === 1;
  }

  async purge(queue: string, id?: string): Promise<number> {
    if (id !== undefined) return (await this.client.ghQPurge(this.base(queue), id)) as number;
    let total = 0;
    for (;;) {
      const n = (await this.client.ghQPurge(this.base(queue), '')) as number;
      total += n;
      if (n < 1000) return total;
    }
  }

  async stats(queue: string): Promise<QueueStats> {
    const [ready, delayed, leased, dead, oldestAgeMs] = (await this.client.ghQStats(this.base(queue))) as number[];
    return { ready: ready!, delayed: delayed!, leased: leased!, dead: dead!, oldestAgeMs: Math.max(0, oldestAgeMs!) };
  }
}

/** An item's hash (a flat field, value list) as {@link QueueItem}, its state as of the server's `now`. */
function itemOf<T extends Json>(queue: string, id: string, now: number, flat: readonly (string | number)[]): QueueItem<T> {
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[String(flat[i])] = String(flat[i + 1]);
  const dueAt = Number(h.due);
  let state = STATES[h.st!] ?? 'ready';
  if (h.st === 'q' && dueAt > now) state = 'delayed';
  // A lapsed lease not yet reclaimed is due again, as the next lease will see it.
  if (h.st === 'l' && dueAt <= now) state = 'ready';
  const item: { -readonly [K in keyof QueueItem<T>]: QueueItem<T>[K] } = {
    queue,
    id,
    state,
    payload: JSON.parse(h.p!) as T,
    attempts: Number(h.a),
    enqueuedAt: Number(h.e),
    dueAt,
  };
  if (h.g !== undefined) item.group = h.g;
  if (h.st === 'l' && state === 'ready') item.lastError = 'lease expired';
  else if (h.err !== undefined) item.lastError = h.err;
  if (h.res !== undefined) item.result = JSON.parse(h.res) as Json;
  if (h.end !== undefined) item.endedAt = Number(h.end);
  return item;
}
