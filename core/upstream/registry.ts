import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { TargetDeclaration, UpstreamConfig } from '../config/types';
import { UpstreamPool } from './pool';
import type { Selector } from './balance';

/** What a plugin (or the admin API) sees of one target. */
export interface TargetInfo {
  readonly url: string;
  readonly weight: number;
  /** Its own in-flight limit (0: the upstream's maxConnectionsPerTarget). */
  readonly maxConnections: number;
  readonly active: number;
  /** Active health checks say so (true without checks). */
  readonly healthy: boolean;
  /** Taken out by outlier detection now. */
  readonly ejected: boolean;
}

/** What a plugin sees of one upstream. */
export interface UpstreamInfo {
  readonly name: string;
  readonly balance: string;
  /** The upstream's per-target in-flight limit (0: none); a target's own `maxConnections` wins. */
  readonly maxConnectionsPerTarget: number;
  readonly targets: readonly TargetInfo[];
}

/** Ad-hoc pools kept for `ctx.target` URLs (least recently used beyond are closed). */
const AD_HOC_MAX = 256;

/** An upstream's info, as plugins and the admin API read it. */
export function infoOf(pool: UpstreamPool): UpstreamInfo {
  const now = Date.now();
  return {
    name: pool.name,
    balance: pool.config.balance,
    maxConnectionsPerTarget: pool.config.maxConnectionsPerTarget,
    targets: pool.targets.map((t) => ({
      url: t.key,
      weight: t.weight,
      maxConnections: t.maxConnections,
      active: t.active,
      healthy: t.healthy,
      ejected: t.ejected(now),
    })),
  };
}

/**
 * The gateway's upstreams: one live pool per declared name, kept across reloads (a reload
 * applies the config's targets and settings), targets that plugins set at run time, and a
 * bounded set of ad-hoc pools for plugin-chosen URLs.
 */
export class UpstreamRegistry {
  /** Declared upstreams by name (read by the gateway per request). */
  readonly pools = new Map<string, UpstreamPool>();
  /** Targets plugins set, by upstream: they survive a reload that does not list targets. */
  private readonly provided = new Map<string, readonly TargetDeclaration[]>();
  private readonly watchers = new Map<string, Set<(info: UpstreamInfo | undefined) => void>>();
  private readonly adHoc: LRUCache<string, UpstreamPool>;
  private adHocDefaults: Omit<UpstreamConfig, 'targets'> | undefined;
  private readBuffer = true;

  constructor(private readonly logger: Logger) {
    this.adHoc = new LRUCache<string, UpstreamPool>({ max: AD_HOC_MAX, dispose: (pool) => pool.destroy() });
  }

  /**
   * Make the pools what a config declares: new names get a pool, gone ones are destroyed (their
   * in-flight requests finish), the others are reconfigured. An upstream that lists targets gets
   * them; one that leaves them to a plugin keeps what the plugin set.
   */
  apply(upstreams: Readonly<Record<string, UpstreamConfig>>, readBuffer: boolean, adHocDefaults: Omit<UpstreamConfig, 'targets'>): void {
    if (readBuffer !== this.readBuffer || adHocDefaults !== this.adHocDefaults) this.adHoc.clear();
    this.readBuffer = readBuffer;
    this.adHocDefaults = adHocDefaults;
    for (const [name, pool] of this.pools) {
      if (upstreams[name]) continue;
      pool.destroy();
      this.pools.delete(name);
      this.provided.delete(name);
      this.notify(name);
    }
    for (const [name, cfg] of Object.entries(upstreams)) {
      let pool = this.pools.get(name);
      if (pool) pool.configure(cfg, readBuffer);
      else {
        pool = new UpstreamPool(name, { ...cfg, targets: undefined }, readBuffer, this.logger);
        pool.onChange(() => this.notify(name));
        this.pools.set(name, pool);
      }
      const targets = cfg.targets ?? this.provided.get(name);
      if (targets) pool.setTargets(targets);
    }
  }

  /** A declared upstream's pool. */
  get(name: string): UpstreamPool | undefined {
    return this.pools.get(name);
  }

  /** A pool for a target URL chosen by a plugin (`ctx.target`), made once per origin and kept while recently used. */
  adHocPool(target: string): UpstreamPool {
    let pool = this.adHoc.get(target);
    if (!pool) {
      pool = new UpstreamPool(target, { ...this.adHocDefaults!, targets: [target] }, this.readBuffer, this.logger);
      this.adHoc.set(target, pool);
    }
    return pool;
  }

  /** Ad-hoc pools open now. */
  adHocCount(): number {
    return this.adHoc.size;
  }

  /** The pool for a plugin-chosen target URL (wins) or a declared upstream name, if any. */
  poolFor(target: string | undefined, upstream: string | undefined): UpstreamPool | undefined {
    if (target) return this.adHocPool(target);
    return upstream === undefined ? undefined : this.pools.get(upstream);
  }

  /** Set the targets of an upstream a plugin provides (kept for it across reloads). Throws on an invalid entry. */
  setTargets(name: string, targets: readonly TargetDeclaration[]): void {
    const pool = this.pools.get(name);
    // Checked (throwing) before it is kept: a bad list must not come back on the next reload.
    pool?.setTargets(targets);
    this.provided.set(name, [...targets]);
    this.logger.debug({ upstream: name, targets: targets.length }, 'upstream targets set');
  }

  /** A plugin's selector for an upstream (undefined: the configured policy again). */
  useSelector(name: string, selector: Selector | undefined): void {
    this.pools.get(name)?.useSelector(selector);
  }

  /** Call `cb` with the upstream's info after each change of it; returns the unsubscribe. */
  watch(name: string, cb: (info: UpstreamInfo | undefined) => void): () => void {
    let set = this.watchers.get(name);
    if (!set) this.watchers.set(name, (set = new Set()));
    set.add(cb);
    return () => {
      set.delete(cb);
      if (set.size === 0 && this.watchers.get(name) === set) this.watchers.delete(name);
    };
  }

  private notify(name: string): void {
    const set = this.watchers.get(name);
    if (!set) return;
    const pool = this.pools.get(name);
    const info = pool ? infoOf(pool) : undefined;
    for (const cb of [...set]) {
      try {
        cb(info);
      } catch (err) {
        this.logger.error({ err, upstream: name }, 'upstream watcher failed');
      }
    }
  }

  /** Close every pool (at shutdown, after the last request). */
  close(): void {
    for (const pool of this.pools.values()) pool.destroy();
    this.pools.clear();
    this.adHoc.clear();
    this.watchers.clear();
  }
}
