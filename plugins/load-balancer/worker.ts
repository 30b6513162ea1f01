import http from 'node:http';
import https from 'node:https';

/** A task as a pulling worker gets it. */
export interface WorkerTask {
  readonly id: string;
  /** This attempt's number (1 the first time; more after a requeue). */
  readonly attempts: number;
  /** The endpoint it was submitted on: process (JSON), annotate (form) or tasks. */
  readonly kind: string;
  readonly contentType: string | null;
  readonly body: Buffer;
  /** The body parsed as JSON (throws when it is not). */
  json<T = unknown>(): T;
}

/** What a handler is given besides the task. */
export interface WorkerContext {
  /** Report progress 0-100 (and a message); it also keeps the task's heartbeat. */
  progress(percent: number, message?: string): Promise<void>;
  /** Aborts when the task was canceled or taken from this worker (requeued), or the worker stops. */
  readonly signal: AbortSignal;
}

/** Options of {@link runWorker}. */
export interface RunWorkerOptions {
  /** The service's base URL on gatehouse, e.g. `http://127.0.0.1:8080/annotator`. */
  readonly url: string;
  /** The plugin's `workerToken`. */
  readonly token: string;
  /** Does the work; its resolved value (JSON) is the result, what it throws (`code`, `message`) the failure. */
  readonly handler: (task: WorkerTask, ctx: WorkerContext) => unknown;
  /** Shown as the task's worker. Default: `<hostname>-<pid>`. */
  readonly name?: string;
  /** Tasks run at once. Default 1. */
  readonly concurrency?: number;
  /** How long one claim waits for a task (ms). Default 25000. */
  readonly waitMs?: number;
  /** Stops the worker (like `stop()`). */
  readonly signal?: AbortSignal;
  /** Where claim and report failures are told. Default: nowhere. */
  readonly onError?: (err: Error) => void;
}

/** A running worker. */
export interface RunningWorker {
  /** Stop claiming; resolves when the tasks in hand are finished (or aborted). */
  stop(): Promise<void>;
  /** Resolves when the worker has stopped. */
  readonly done: Promise<void>;
}

interface Answer {
  status: number;
  json: any;
}

function post(url: URL, token: string, body: unknown, signal?: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? '' : JSON.stringify(body);
    const req = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      ...(signal ? { signal } : {}),
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((r) => {
    const timer = setTimeout(r, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), r()), { once: true });
  });

/**
 * A pulling worker for a `load-balancer` with `dispatch: pull`: claims tasks (long poll), runs
 * `handler` on each, keeps its heartbeat while it runs (progress reports, and a repeat of the
 * last one every third of heartbeatMs), and posts the result or the failure. A task canceled or
 * requeued meanwhile aborts `ctx.signal`, and its late result is dropped by gatehouse.
 */
export function runWorker(options: RunWorkerOptions): RunningWorker {
  const base = options.url.replace(/\/+$/, '');
  const origin = new URL(base).origin;
  const name = options.name ?? `${process.env.HOSTNAME ?? 'worker'}-${process.pid}`;
  const stopping = new AbortController();
  options.signal?.addEventListener('abort', () => stopping.abort(), { once: true });
  const report = (err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err)));

  async function runOne(claim: any): Promise<void> {
    const ctl = new AbortController();
    const onStop = () => ctl.abort();
    stopping.signal.addEventListener('abort', onStop, { once: true });
    let last: { progress?: number; message?: string } = {};
    const send = async (body: object) => {
      const r = await post(new URL(claim.progressUrl, origin), options.token, body);
      if (r.json?.continue === false) ctl.abort();
    };
    const beat = setInterval(() => void send(last).catch(report), Math.max(100, Math.floor(claim.heartbeatMs / 3)));
    const body = Buffer.from(claim.body as string, 'base64');
    const task: WorkerTask = {
      id: claim.id,
      attempts: claim.attempts,
      kind: claim.kind,
      contentType: claim.contentType,
      body,
      json: <T>() => JSON.parse(body.toString('utf8')) as T,
    };
    const ctx: WorkerContext = {
      signal: ctl.signal,
      progress: async (percent, message) => {
        last = { progress: percent, ...(message !== undefined ? { message } : {}) };
        await send(last);
      },
    };
    try {
      let outcome: { url: string; body: unknown };
      try {
        const result = await options.handler(task, ctx);
        outcome = { url: claim.resultUrl, body: result === undefined ? null : result };
      } catch (err) {
        const e = err as { code?: unknown; message?: unknown };
        outcome = {
          url: claim.failUrl,
          body: { code: typeof e?.code === 'string' || typeof e?.code === 'number' ? e.code : 'ERROR', message: String(e?.message ?? err) },
        };
      }
      clearInterval(beat);
      // Sent even when aborted: gatehouse drops the result of an attempt that is no longer current.
      const r = await post(new URL(outcome.url, origin), options.token, outcome.body);
      // Refused (the task timed out): onError says so, since the work is lost.
      if (r.status >= 400) throw new Error(`task ${claim.id}: gatehouse refused its outcome (${r.status} ${r.json?.error?.code ?? ''})`);
    } finally {
      clearInterval(beat);
      stopping.signal.removeEventListener('abort', onStop);
    }
  }

  async function loop(): Promise<void> {
    const claimUrl = new URL(`${base}/_worker/claim?waitMs=${options.waitMs ?? 25000}&worker=${encodeURIComponent(name)}`);
    while (!stopping.signal.aborted) {
      try {
        const r = await post(claimUrl, options.token, undefined, stopping.signal);
        if (r.status === 204) continue;
        if (r.status !== 200) throw new Error(`claim answered ${r.status}: ${JSON.stringify(r.json)}`);
        await runOne(r.json).catch(report);
      } catch (err) {
        if (stopping.signal.aborted) break;
        report(err);
        await pause(1000, stopping.signal);
      }
    }
  }

  const done = Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, loop)).then(() => undefined);
  return {
    done,
    stop() {
      stopping.abort();
      return done;
    },
  };
}
