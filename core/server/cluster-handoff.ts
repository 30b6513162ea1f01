import type { Worker } from 'node:cluster';

/** The primary's message handing a worker a connection (node:cluster's round robin; lib/internal/cluster). */
interface NewConn {
  cmd: 'NODE_CLUSTER';
  act: 'newconn';
  seq: number;
  key: string;
}

type Handle = { close(): void };

const isNewConn = (m: unknown): m is NewConn =>
  typeof m === 'object' && m !== null && (m as NewConn).cmd === 'NODE_CLUSTER' && (m as NewConn).act === 'newconn';

/**
 * Connections node:cluster handed to `worker` that it never took, re-handed when it dies.
 *
 * Why: with round robin the primary accepts each connection and sends it to a worker, keeping its
 * own copy until the worker answers. A worker killed before it answers never does, and Node
 * neither closes that copy nor gives the connection to another worker (the round-robin handle
 * ignores a handoff that cannot complete), so the client waits for ever on a connection that
 * nobody reads: in our SIGKILL test one request per kill, every time (the dead worker was idle,
 * so the next connection went to it before the primary saw it die). Here each handoff is noted
 * (the worker's `process.send`, which node:cluster calls) until its answer (`ack`) arrives; when
 * the worker exits, what was not answered is sent as it was to another worker, whose
 * answer completes node:cluster's own bookkeeping (the answer callbacks are keyed by `seq`, not by
 * worker) — or closed, when no worker is left, so the client sees a reset rather than silence.
 *
 * @param others the workers that can take a connection now.
 */
export function rehandOnDeath(worker: Worker, others: () => Worker[], onRehand: (n: number, to: number | undefined) => void): void {
  const proc = worker.process as unknown as {
    send(message: unknown, handle?: unknown, ...rest: unknown[]): boolean;
    on(event: 'internalMessage', fn: (m: { cmd?: string; ack?: number }) => void): void;
    once(event: 'exit', fn: () => void): void;
  };
  const unanswered = new Map<number, { message: NewConn; handle: Handle }>();
  const send = proc.send.bind(proc);
  proc.send = (message: unknown, handle?: unknown, ...rest: unknown[]) => {
    if (isNewConn(message) && handle) unanswered.set(message.seq, { message, handle: handle as Handle });
    return send(message, handle, ...rest);
  };
  proc.on('internalMessage', (m) => {
    if (m?.cmd === 'NODE_CLUSTER' && m.ack !== undefined) unanswered.delete(m.ack);
  });
  // 'exit', not 'disconnect': a killed child's process emits only 'exit' (node:cluster has removed
  // the worker from its round robin by then: its listener came first).
  proc.once('exit', () => {
    if (unanswered.size === 0) return;
    const to = others().find((w) => w !== worker && w.isConnected());
    for (const { message, handle } of unanswered.values()) {
      if (to) (to.process as unknown as typeof proc).send(message, handle);
      else handle.close();
    }
    onRehand(unanswered.size, to?.id);
    unanswered.clear();
  });
}
