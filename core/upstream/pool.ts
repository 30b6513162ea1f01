import type http from 'node:http';
import type { UpstreamConfig } from '../config/types';
import { createUpstreamAgent, type UpstreamAgent } from './agent';

/** One target of a pool, with its own keep-alive agent. */
export interface Target {
  readonly url: URL;
  readonly agent: http.Agent;
}

/** A named pool of targets. Round robin for now; the load-balancer plugin brings smarter choices. */
export class UpstreamPool {
  readonly targets: readonly Target[];
  private next = 0;
  private readonly agents: UpstreamAgent[] = [];

  /** @param readBuffer plain-HTTP targets read into core's reused buffer (`server.tuning.readBuffer`). */
  constructor(
    readonly name: string,
    readonly config: Readonly<UpstreamConfig>,
    readBuffer = true,
  ) {
    this.targets = config.targets.map((t) => {
      const url = new URL(t);
      const secure = url.protocol === 'https:' || url.protocol === 'wss:';
      // One agent per target keeps keep-alive accounting (and the open-socket gauge) exact.
      const made = createUpstreamAgent({
        busyMs: config.timeout,
        idleMs: config.keepAliveMs,
        maxSockets: config.maxSockets,
        maxFreeSockets: config.maxFreeSockets,
        secure,
        rejectUnauthorized: !config.insecure,
        readBuffer,
      });
      this.agents.push(made);
      return { url, agent: made.agent };
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
    for (const a of this.agents) a.close();
  }
}

/** Build every pool of a config. */
export function createPools(upstreams: Readonly<Record<string, UpstreamConfig>>, readBuffer: boolean): Map<string, UpstreamPool> {
  return new Map(Object.entries(upstreams).map(([name, cfg]) => [name, new UpstreamPool(name, cfg, readBuffer)]));
}
