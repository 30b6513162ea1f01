import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Json, KvEntry, LeasedItem, StateStore } from '../../core/plugin-api';
import type { LoadBalancerOptions } from './schema';
import { FINAL, type TaskError, type TaskPayload, type TaskRecord } from './task';

/** How often a cas that lost a race is tried again before giving up (each try re-reads). */
const CAS_TRIES = 20;

/** What a finished attempt came to. */
export type Outcome =
  { readonly state: 'succeeded'; readonly result: Json } | { readonly state: 'failed' | 'canceled'; readonly error: TaskError };

/** A task id from an Idempotency-Key: the same key on the same service is the same task. */
export function idempotentId(service: string, key: string): string {
  const h = createHash('sha256').update(`${service}\u0000${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The task records (kv `task/<id>`) and the pending queue (`tasks/<service>`): every state
 * change is a read and a cas on the record's version, so concurrent processes never both move
 * one task, and the queue's lease decides who dispatches it.
 */
export class TaskRecords {
  readonly queueName: string;

  constructor(
    private readonly store: () => StateStore,
    private readonly options: Readonly<LoadBalancerOptions>,
  ) {
    this.queueName = `tasks/${options.service}`;
  }

  private key(id: string): string {
    return `task/${id}`;
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    if (id.length === 0 || id.length > 200) return undefined;
    return (await this.store().kv.get<TaskRecord & Json>(this.key(id)))?.value;
  }

  /** The TTL of a record in `state`: finished ones go after their result TTL plus the tombstone. */
  private ttl(r: TaskRecord): { ttlMs?: number } {
    return FINAL.has(r.state) ? { ttlMs: this.options.resultTtlMs + this.options.tombstoneMs } : {};
  }

  /**
   * Change a record: `change` gets the current one and returns the next (or undefined: leave it).
   * Resolves to `[record now, changed]`, or undefined when there is no record.
   */
  async update(id: string, change: (r: TaskRecord) => TaskRecord | undefined): Promise<[TaskRecord, boolean] | undefined> {
    const kv = this.store().kv;
    for (let i = 0; i < CAS_TRIES; i++) {
      const entry = await kv.get<TaskRecord & Json>(this.key(id));
      if (!entry) return undefined;
      const next = change(entry.value);
      if (!next) return [entry.value, false];
      const r = await kv.cas(this.key(id), entry.version, next as TaskRecord & Json, this.ttl(next));
      if (r.ok) return [next, true];
    }
    throw new Error(`task ${id}: the record kept changing under ${CAS_TRIES} updates`);
  }

  /** A record's first write from its payload; the existing one when another process wrote it first. */
  private async create(p: TaskPayload): Promise<TaskRecord> {
    const r: TaskRecord = {
      id: p.id,
      service: p.service,
      state: 'queued',
      progress: null,
      message: null,
      attempts: 0,
      createdAt: p.createdAt,
      startedAt: null,
      finishedAt: null,
      worker: null,
    };
    const kv = this.store().kv;
    for (let i = 0; i < CAS_TRIES; i++) {
      if ((await kv.cas(this.key(p.id), 0, r as TaskRecord & Json)).ok) return r;
      const existing = (await kv.get<TaskRecord & Json>(this.key(p.id))) as KvEntry<TaskRecord & Json> | undefined;
      if (existing) return existing.value;
    }
    throw new Error(`task ${p.id}: cannot be recorded`);
  }

  /**
   * Store a new task: the queue item first (the durable promise: a dispatcher that leases an item
   * without a record writes the record itself), then the record. Resolves once both are durable.
   */
  async submit(input: Omit<TaskPayload, 'id' | 'createdAt'>, idempotencyKey?: string): Promise<{ record: TaskRecord; duplicate: boolean }> {
    const id = idempotencyKey ? idempotentId(input.service, idempotencyKey) : randomUUID();
    if (idempotencyKey) {
      const known = await this.get(id);
      if (known) return { record: known, duplicate: true };
    }
    const payload: TaskPayload = { ...input, id, createdAt: Date.now() };
    const retainMs = this.options.resultTtlMs + this.options.tombstoneMs;
    const q = await this.store().queue.enqueue(this.queueName, payload as TaskPayload & Json, { id, retainMs });
    const record = await this.create(payload);
    return { record, duplicate: q.duplicate };
  }

  /**
   * Start an attempt on a leased item for `worker`. Undefined when there is nothing to run: the
   * task was canceled or finished meanwhile, or it was found abandoned with its attempts used up
   * (then it fails here). Another process's running attempt left behind (its lease lapsed) counts.
   */
  async begin(item: LeasedItem<TaskPayload & Json>, worker: string): Promise<TaskRecord | undefined> {
    const now = Date.now();
    const attempt = randomBytes(16).toString('base64url');
    let exhausted = false;
    const change = (r: TaskRecord): TaskRecord | undefined => {
      exhausted = false;
      if (FINAL.has(r.state)) return undefined;
      if (r.state === 'running' && r.attempts >= this.options.maxAttempts) {
        exhausted = true;
        return this.finalRecord(r, now, {
          state: 'failed',
          error: { code: 'ATTEMPTS_EXHAUSTED', message: `abandoned after ${r.attempts} attempt(s): ${item.lastError ?? 'no heartbeat'}` },
        });
      }
      return {
        ...r,
        state: 'running',
        attempts: r.attempts + 1,
        startedAt: now,
        progress: null,
        message: null,
        worker,
        attempt,
        lease: item.token,
      };
    };
    // The record is usually there; when the submitter has not written it yet, write it from the payload.
    let res = await this.update(item.id, change);
    if (!res) {
      await this.create(item.payload);
      res = await this.update(item.id, change);
    }
    if (!res || !res[1] || exhausted) {
      await this.store()
        .queue.ack(item)
        .catch(() => undefined);
      return undefined;
    }
    return res[0];
  }

  private finalRecord(r: TaskRecord, now: number, o: Outcome): TaskRecord {
    const { attempt: _a, lease: _l, result: _r, error: _e, ...rest } = r;
    return {
      ...rest,
      state: o.state,
      finishedAt: now,
      ...(o.state === 'succeeded' ? { result: o.result } : { error: o.error }),
      ...(o.state === 'succeeded' ? { progress: 100 } : {}),
      expiresAt: now + this.options.resultTtlMs,
    };
  }

  /** End the attempt `attempt` with `o`; false when it is no longer the task's current attempt (requeued, canceled). */
  async finish(id: string, attempt: string, o: Outcome): Promise<TaskRecord | undefined> {
    const now = Date.now();
    let lease: string | undefined;
    const res = await this.update(id, (r) => {
      if (r.state !== 'running' || r.attempt !== attempt) return undefined;
      lease = r.lease;
      return this.finalRecord(r, now, o);
    });
    if (!res || !res[1]) return undefined;
    if (lease)
      await this.store()
        .queue.ack({ queue: this.queueName, id, token: lease })
        .catch(() => undefined);
    return res[0];
  }

  /** Whether attempt `r` has run longer than taskTimeoutMs. */
  overdue(r: TaskRecord, now = Date.now()): boolean {
    return r.state === 'running' && r.startedAt !== null && now - r.startedAt > this.options.taskTimeoutMs;
  }

  /** Fail attempt `attempt` with TIMEOUT; the record after, or undefined when it is no longer current. */
  timeOut(id: string, attempt: string): Promise<TaskRecord | undefined> {
    return this.finish(id, attempt, {
      state: 'failed',
      error: { code: 'TIMEOUT', message: `running longer than taskTimeoutMs (${this.options.taskTimeoutMs} ms)` },
    });
  }

  /** A progress report of attempt `attempt`; resolves to the record now (its state says whether to go on). */
  async progress(id: string, attempt: string, progress: number | null, message: string | null): Promise<TaskRecord | undefined> {
    const res = await this.update(id, (r) => {
      if (r.state !== 'running' || r.attempt !== attempt) return undefined;
      return { ...r, progress: progress ?? r.progress, message: message ?? r.message };
    });
    return res?.[0];
  }

  /** Keep attempt `r`'s queue lease another heartbeat; false when it was lost. */
  extend(r: TaskRecord): Promise<boolean> {
    if (!r.lease) return Promise.resolve(false);
    return this.store().queue.extend({ queue: this.queueName, id: r.id, token: r.lease }, this.options.heartbeatMs);
  }

  /** Give a running attempt back to the queue at once (gatehouse stopping, worker unreachable): it runs again. */
  async handBack(id: string, attempt: string, why: string, ran = true): Promise<void> {
    let lease: string | undefined;
    const res = await this.update(id, (r) => {
      if (r.state !== 'running' || r.attempt !== attempt) return undefined;
      lease = r.lease;
      const { attempt: _a, lease: _l, ...rest } = r;
      // An attempt that never reached a worker is not counted.
      return { ...rest, state: 'queued', progress: null, message: null, attempts: ran ? r.attempts : r.attempts - 1 };
    });
    if (res?.[1] && lease) await this.store().queue.retry({ queue: this.queueName, id, token: lease }, 0, why);
  }

  /** Cancel: a queued task leaves the queue, a running one is marked (its holder stops it). The record after, or undefined. */
  async cancel(id: string): Promise<{ record: TaskRecord; was: TaskRecord['state'] } | undefined> {
    const now = Date.now();
    let was: TaskRecord['state'] = 'queued';
    const res = await this.update(id, (r) => {
      was = r.state;
      if (FINAL.has(r.state)) return undefined;
      return this.finalRecord(r, now, { state: 'canceled', error: { code: 'REVOKED', message: 'The task was canceled' } });
    });
    if (!res) return undefined;
    if (!res[1]) return { record: res[0], was };
    // Queued: it must not be handed out. Running: its lease can no longer be extended or acked.
    await this.store()
      .queue.remove(this.queueName, id)
      .catch(() => undefined);
    return { record: res[0], was };
  }

  /** Records under `task/`, a page at a time (key order), filtered by `keep`. */
  async list(keep: (r: TaskRecord) => boolean, limit: number): Promise<TaskRecord[]> {
    const out: TaskRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store().kv.list('task/', { limit: 1000, ...(cursor ? { cursor } : {}) });
      for (const e of page.entries) {
        const r = e.value as unknown as TaskRecord;
        if (keep(r)) out.push(r);
      }
      cursor = page.cursor;
    } while (cursor && out.length < limit);
    return out.sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
  }
}
