import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ReadBufferAgent } from '../tuning/read-buffer';

const IDLE_SINCE = Symbol('gatehouse.idleSince');
/** A pooled socket, stamped with the sweep tick at which it became idle. */
type PooledSocket = Socket & { [IDLE_SINCE]?: number };

/** Settings of one upstream target's agent (from the upstream's config). */
export interface UpstreamAgentOptions {
  /** Silence allowed on the socket while a request is under way (the upstream `timeout`; 0: none). */
  busyMs: number;
  /** How long an idle socket stays pooled (`keepAliveMs`; 0: not kept). */
  idleMs: number;
  maxSockets: number;
  maxFreeSockets: number;
  secure: boolean;
  /** For https targets: refuse invalid certificates. */
  rejectUnauthorized: boolean;
  /** For http targets: read into core's reused buffer (core/tuning/read-buffer.ts). */
  readBuffer: boolean;
}

let live = 0;

/** Agents made and not yet closed, in this process (a removed target's must be closed: a leak shows here). */
export function liveAgents(): number {
  return live;
}

/** A keep-alive agent and the way to stop its idle sweep. */
export interface UpstreamAgent {
  readonly agent: http.Agent;
  close(): void;
}

/**
 * A keep-alive agent whose sockets time out after `busyMs` of silence during a request and
 * are closed after `idleMs` in the pool. Node's Agent has one socket timeout for both
 * states; switching it on every request re-arms a socket timer twice per request, which
 * showed in the passthrough profile (bench/README.md). Here the socket keeps `busyMs`
 * (the agent's `timeout`, which Node relays to the request as 'timeout'), and a sweep that
 * ticks every `idleMs / 4` (25 ms to 1 s) closes sockets idle for `idleMs` or up to one tick more.
 * Idle time is counted in ticks, so freeing a socket reads no clock.
 */
export function createUpstreamAgent(o: UpstreamAgentOptions): UpstreamAgent {
  const base: http.AgentOptions = {
    keepAlive: o.idleMs > 0,
    keepAliveMsecs: 1000,
    maxSockets: o.maxSockets,
    maxFreeSockets: o.maxFreeSockets,
    timeout: o.busyMs,
    scheduling: 'lifo',
  };
  // Plain-HTTP sockets read into a reused buffer, unless tuned off: half the allocations when streaming (read-buffer.ts).
  const agent = o.secure
    ? new https.Agent({ ...base, rejectUnauthorized: o.rejectUnauthorized })
    : o.readBuffer
      ? new ReadBufferAgent(base)
      : new http.Agent(base);
  let tick = 0;
  const keepSocketAlive = agent.keepSocketAlive as unknown as (socket: Duplex) => boolean;
  const reuseSocket = agent.reuseSocket;
  // Node's two documented hooks for keep-alive agents.
  agent.keepSocketAlive = function keepIdle(this: http.Agent, socket: Duplex): boolean {
    // Node also lowers the socket timeout to the server's Keep-Alive hint here, if shorter.
    const keep = keepSocketAlive.call(this, socket);
    (socket as PooledSocket)[IDLE_SINCE] = tick;
    return keep;
  } as never;
  agent.reuseSocket = function reuseBusy(this: http.Agent, socket: Duplex, req: http.ClientRequest): void {
    reuseSocket.call(this, socket, req);
    // Undo a Keep-Alive hint's shorter timeout: a busy socket gets the upstream timeout.
    if (o.busyMs && (socket as PooledSocket).timeout !== o.busyMs) (socket as PooledSocket).setTimeout(o.busyMs);
  };
  live++;
  let closed = false;
  if (o.idleMs <= 0)
    return {
      agent,
      close() {
        if (closed) return;
        closed = true;
        live--;
        agent.destroy();
      },
    };
  const every = Math.max(25, Math.min(1000, Math.floor(o.idleMs / 4)));
  const ticks = Math.ceil(o.idleMs / every);
  const sweep = setInterval(() => {
    tick++;
    for (const list of Object.values(agent.freeSockets)) {
      for (const s of [...(list ?? [])] as PooledSocket[]) if (tick - (s[IDLE_SINCE] ?? 0) > ticks) s.destroy();
    }
  }, every);
  sweep.unref();
  return {
    agent,
    close() {
      if (closed) return;
      closed = true;
      live--;
      clearInterval(sweep);
      agent.destroy();
    },
  };
}
