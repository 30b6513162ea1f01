import http from 'node:http';
import https from 'node:https';
import type { UpstreamConfig } from '../config/types';
import { ReadBufferAgent } from './read-buffer';

/** One target of a pool, with its own keep-alive agent. */
export interface Target {
  readonly url: URL;
  readonly agent: http.Agent;
}

/** A named pool of targets. Round robin for now; the load-balancer plugin brings smarter choices. */
export class UpstreamPool {
  readonly targets: readonly Target[];
  private next = 0;

  constructor(readonly name: string, readonly config: Readonly<UpstreamConfig>) {
    this.targets = config.targets.map((t) => {
      const url = new URL(t);
      const secure = url.protocol === 'https:' || url.protocol === 'wss:';
      // One agent per target keeps keep-alive accounting (and the open-socket gauge) exact.
      // Plain-HTTP sockets read into a reused buffer: half the allocations when streaming (read-buffer.ts).
      const opts = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: config.maxSockets, maxFreeSockets: config.maxFreeSockets, timeout: config.keepAliveMs, scheduling: 'lifo' as const };
      const agent = secure ? new https.Agent({ ...opts, rejectUnauthorized: !config.insecure }) : new ReadBufferAgent(opts);
      return { url, agent };
    });
  }

  /** The next target in turn. */
  pick(): Target {
    const t = this.targets[this.next];
    this.next = (this.next + 1) % this.targets.length;
    return t;
  }

  /** Sockets open to this pool right now, in use and idle. */
  openSockets(): number {
    let n = 0;
    for (const { agent } of this.targets) {
      for (const list of Object.values(agent.sockets)) n += list?.length ?? 0;
      for (const list of Object.values(agent.freeSockets)) n += list?.length ?? 0;
    }
    return n;
  }

  /** Close every socket (after the last in-flight request of an old config). */
  destroy(): void {
    for (const { agent } of this.targets) agent.destroy();
  }
}

/** Build every pool of a config. */
export function createPools(upstreams: Readonly<Record<string, UpstreamConfig>>): Map<string, UpstreamPool> {
  return new Map(Object.entries(upstreams).map(([name, cfg]) => [name, new UpstreamPool(name, cfg)]));
}
