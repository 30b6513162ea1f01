import type http from 'node:http';
import type { TargetDeclaration, UpstreamConfig } from '../config/types';
import { targetSchema } from '../config/upstream-schema';
import type { JsonSchema } from '../plugin/contract';
import { createUpstreamAgent } from './agent';

/** A target's weight when none is written, read from the schema (where the default is documented). */
const DEFAULT_WEIGHT = ((targetSchema.else as JsonSchema).properties as Record<string, JsonSchema>).weight.default as number;

/** Settings of a pool that its targets' agents are built from: a change means new agents. */
export type AgentSettings = Pick<UpstreamConfig, 'timeout' | 'maxSockets' | 'maxFreeSockets' | 'keepAliveMs' | 'insecure'> & {
  readonly readBuffer: boolean;
};

/** The settings of a pool that its targets' agents depend on, compared on reconfiguration. */
export function agentSettings(c: Readonly<UpstreamConfig>, readBuffer: boolean): AgentSettings {
  const { timeout, maxSockets, maxFreeSockets, keepAliveMs, insecure } = c;
  return { timeout, maxSockets, maxFreeSockets, keepAliveMs, insecure, readBuffer };
}

export function sameSettings(a: AgentSettings, b: AgentSettings): boolean {
  return (
    a.timeout === b.timeout &&
    a.maxSockets === b.maxSockets &&
    a.maxFreeSockets === b.maxFreeSockets &&
    a.keepAliveMs === b.keepAliveMs &&
    a.insecure === b.insecure &&
    a.readBuffer === b.readBuffer
  );
}

/** Decay time of the latency EWMA (Linkerd's default). */
const EWMA_TAU_MS = 10_000;

/** A target's declaration in its object form, its URL normalised (the key a pool knows it by). */
export interface TargetSpec {
  readonly url: string;
  readonly weight: number;
  /** 0: the pool's maxConnectionsPerTarget. */
  readonly maxConnections: number;
}

/** A declaration (a URL, or `{ url, weight, maxConnections }`) in its object form. */
export function toSpec(t: TargetDeclaration): TargetSpec {
  const o = typeof t === 'string' ? { url: t } : t;
  if (!o || typeof o.url !== 'string' || !URL.canParse(o.url)) throw new TypeError(`not a target URL: ${JSON.stringify(o?.url ?? t)}`);
  const url = new URL(o.url);
  if (!/^(http|https|ws|wss):$/.test(url.protocol) || url.port === '0') throw new TypeError(`not an http(s) or ws(s) target: ${o.url}`);
  const weight = o.weight ?? DEFAULT_WEIGHT;
  if (!Number.isInteger(weight) || weight < 1) throw new TypeError(`target ${o.url}: weight must be a whole number ≥ 1`);
  const max = o.maxConnections ?? 0;
  if (!Number.isInteger(max) || max < 0) throw new TypeError(`target ${o.url}: maxConnections must be a whole number ≥ 1`);
  return { url: url.href, weight, maxConnections: max };
}

/**
 * One target of a pool with its own keep-alive agent and the counters the balancing policies,
 * limits, health and metrics read. A removed target serves its in-flight requests, then its
 * agent (sockets and sweep timer) is closed.
 */
export class Target {
  readonly url: URL;
  readonly agent: http.Agent;
  weight: number;
  /** Own in-flight limit (0: the pool's). */
  maxConnections: number;
  /** Requests in flight on this target now. */
  active = 0;
  picks = 0;
  retries = 0;
  /** Latency EWMA in ms (0: nothing measured yet). */
  ewmaMs = 0;
  /** performance.now() of the last latency sample. */
  ewmaAt = 0;
  /** Smooth weighted round robin's running weight. */
  current = 0;
  /** Active health check verdict. */
  healthy = true;
  /** Passive outlier detection: consecutive failures, ejections so far, ejected until (epoch ms). */
  failures = 0;
  ejections = 0;
  /** Ejections ever (ejections above starts over after a long healthy spell). */
  ejectedTotal = 0;
  ejectedUntil = 0;
  /** Active checks: the next one's timer, passes and failures in a row. */
  checkTimer: NodeJS.Timeout | undefined = undefined;
  checkPasses = 0;
  checkFailures = 0;
  /** Taken out of its pool (closed once idle). */
  removed = false;
  private readonly closeAgent: () => void;

  constructor(
    readonly key: string,
    spec: TargetSpec,
    s: AgentSettings,
  ) {
    this.url = new URL(key);
    this.weight = spec.weight;
    this.maxConnections = spec.maxConnections;
    const secure = this.url.protocol === 'https:' || this.url.protocol === 'wss:';
    // One agent per target keeps keep-alive accounting (and the open-socket gauge) exact.
    const made = createUpstreamAgent({
      busyMs: s.timeout,
      idleMs: s.keepAliveMs,
      maxSockets: s.maxSockets,
      maxFreeSockets: s.maxFreeSockets,
      secure,
      rejectUnauthorized: !s.insecure,
      readBuffer: s.readBuffer,
    });
    this.agent = made.agent;
    this.closeAgent = made.close;
  }

  /**
   * One latency sample: a peak-sensitive EWMA (Linkerd's), where a slower answer counts at
   * once and faster ones decay into it over EWMA_TAU_MS.
   */
  observe(ms: number, now: number): void {
    if (ms >= this.ewmaMs) this.ewmaMs = ms;
    else {
      const w = Math.exp(-(now - this.ewmaAt) / EWMA_TAU_MS);
      this.ewmaMs = this.ewmaMs * w + ms * (1 - w);
    }
    this.ewmaAt = now;
  }

  /**
   * The EWMA as of `now` (performance.now()): decayed towards 0 since the last sample, as
   * Finagle's peak EWMA reads it. Without this, a target whose last answer was slow and that
   * then lost every draw would keep that cost for ever and never be tried again.
   */
  latencyAt(now: number): number {
    if (this.ewmaMs === 0) return 0;
    return this.ewmaMs * Math.exp(-(now - this.ewmaAt) / EWMA_TAU_MS);
  }

  /** Whether passive outlier detection keeps this target out now. */
  ejected(now: number): boolean {
    return this.ejectedUntil > now;
  }

  /** One request fewer in flight; a removed target closes once none is left. */
  done(): void {
    this.active--;
    if (this.removed && this.active === 0) this.closeAgent();
  }

  /** Out of the pool: no new requests; the agent closes now or after the last in-flight one. */
  retire(): void {
    if (this.removed) return;
    this.removed = true;
    clearTimeout(this.checkTimer);
    this.checkTimer = undefined;
    if (this.active === 0) this.closeAgent();
  }

  /** Sockets open to this target now, in use and idle. */
  openSockets(): number {
    let n = 0;
    for (const list of Object.values(this.agent.sockets)) n += list?.length ?? 0;
    for (const list of Object.values(this.agent.freeSockets)) n += list?.length ?? 0;
    return n;
  }
}
