/**
 * Messages between {@link SqliteStore} (the caller's thread) and the worker thread that owns the
 * SQLite connection. Values cross as JSON strings: the caller stringifies and parses, the worker
 * stores text as given.
 */

/** What the worker is started with (workerData). */
export interface WorkerInit {
  readonly path: string;
  readonly durability: 'strict' | 'relaxed';
  /** ms a write waits for another process's lock before failing. */
  readonly busyTimeoutMs: number;
  /** ms between polls of the change log while something watches. */
  readonly pollMs: number;
}

/** A call into the worker (the client posts the calls of one loop iteration as one array). */
export interface Request {
  readonly id: number;
  readonly op: string;
  readonly args: readonly unknown[];
}

/** The answer to one {@link Request}. */
export type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly code?: string };

/** One kv change as the worker reports it (type 0 set, 1 delete; value is JSON text). */
export interface ChangeRow {
  readonly rev: number;
  readonly type: number;
  readonly key: string;
  readonly value: string | null;
}

/** Any message the worker posts. */
export type WorkerMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'replies'; readonly replies: Reply[] }
  | { readonly kind: 'changes'; readonly changes: ChangeRow[] }
  | { readonly kind: 'log'; readonly level: 'warn' | 'error'; readonly message: string };

/** A kv row as the worker returns it. */
export interface KvRow {
  readonly key: string;
  readonly value: string;
  readonly version: number;
  readonly expires_at: number | null;
}

/** An item row as the worker returns it. */
export interface ItemRow {
  readonly seq: number;
  readonly queue: string;
  readonly id: string;
  readonly state: number;
  readonly payload: string;
  readonly attempts: number;
  readonly enqueued_at: number;
  readonly due_at: number;
  readonly grp: string | null;
  readonly token: string | null;
  readonly last_error: string | null;
  readonly result: string | null;
  readonly ended_at: number | null;
  readonly retain_ms: number;
}
