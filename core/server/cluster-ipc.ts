import type { Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';

/** What the primary asks a worker over the cluster's IPC channel. */
export type WorkerQuestion = 'metrics' | 'ready' | 'upstreams' | 'reload' | 'reopen' | 'samples';

/** Messages between the primary and its workers (`gh` tells them from prom-client's or Node's own). */
export type ClusterMessage =
  | { gh: 'listening'; addresses: { http?: AddressInfo; https?: AddressInfo } }
  | { gh: 'failed'; message: string }
  | { gh: 'ask'; id: number; what: WorkerQuestion; arg?: unknown }
  | { gh: 'reply'; id: number; ok: true; value: unknown }
  | { gh: 'reply'; id: number; ok: false; error: string };

/** Whether `m` is one of gatehouse's cluster messages. */
export function isClusterMessage(m: unknown): m is ClusterMessage {
  return typeof m === 'object' && m !== null && typeof (m as { gh?: unknown }).gh === 'string';
}

let nextId = 1;

/**
 * Ask `worker` one question; resolves with its answer, rejects with its error, or after
 * `timeoutMs` (a worker that died or hangs does not hold an admin request for ever). `arg` is
 * the question's argument, when it has one (JSON).
 */
export function ask(worker: Worker, what: WorkerQuestion, timeoutMs: number, arg?: unknown): Promise<unknown> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
    };
    const onMessage = (m: unknown) => {
      if (!isClusterMessage(m) || m.gh !== 'reply' || m.id !== id) return;
      done();
      if (m.ok) resolve(m.value);
      else reject(new Error(m.error));
    };
    const onExit = () => {
      done();
      reject(new Error(`worker ${worker.id} exited`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`worker ${worker.id} did not answer "${what}" within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    try {
      worker.send((arg === undefined ? { gh: 'ask', id, what } : { gh: 'ask', id, what, arg }) satisfies ClusterMessage);
    } catch (err) {
      done();
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
