import type { AccessLogSetting } from '../observe/access-log';
import type { StoreSetting } from '../store/spec';
/** Typed view of a validated configuration (defaults applied). See core/config/schema.ts. */
export interface GatehouseConfig {
  server: {
    http?: { port: number; host: string; redirectToHttps: boolean };
    https?: {
      port: number;
      host: string;
      cert?: string;
      key?: string;
      selfSigned?: { hosts: string[]; dir: string; days: number };
    };
    trustProxy: string[];
    timeouts: { headers: number; request: number; keepAlive: number; send: number };
    maxHeaderSize: number;
    /** Most header lines a request may carry (431 beyond). */
    maxHeaderCount: number;
    maxUrlLength: number;
    /** `%2F`, `%5C` and `\` in paths: refused (400) or kept opaque. */
    encodedSlashes: 'reject' | 'keep';
    shutdownGrace: number;
    /** Proxy processes: 1, N, or `auto` (available parallelism); above 1 a cluster (core/server/cluster-primary.ts). */
    workers: number | 'auto';
    /** A crashed worker is restarted unless its slot crashed more than `max` times within `windowMs`. */
    workerRestarts: { max: number; windowMs: number };
    /** `Gatehouse-Worker: <id>` on responses served by a cluster worker. */
    workerHeader: boolean;
    /** ms a plugin's start, and all plugins' stops together, may take. */
    pluginTimeout: number;
    /** Node/V8 internals gatehouse tunes (core/tuning/). */
    tuning: {
      /** Reuse one read buffer for plain-HTTP upstream sockets. */
      readBuffer: boolean;
      /** Compile `.ts` plugins on load (core's require hook). */
      typescript: boolean;
      /** MiB of relayed body between young-generation collections (0: off). */
      gcEveryMiB: number;
    };
  };
  admin?: { port: number; host: string; token: string };
  /** `store:` as written (a URL, or `{ url, … }`); core/store/spec.ts resolves it. */
  store: StoreSetting;
  /** The service registry; absent: off. */
  registry?: { deregisterAfterMs: number; reapEveryMs: number };
  log: { level: string; accessLog: AccessLogSetting };
  upstreams: Record<string, UpstreamConfig>;
  plugins: PluginDeclaration[];
  routes: RouteConfig[];
}

/** One target as written: a URL, or the URL with its weight and in-flight limit. */
export type TargetDeclaration = string | { url: string; weight?: number; maxConnections?: number };

/** What `retry.on` may list. */
export type RetryCause = 'connect-failure' | 'reset' | 'timeout' | '502' | '503' | '504';

/** The balancing policies core implements. */
export type BalancePolicy = 'round-robin' | 'least-request' | 'p2c-ewma' | 'ring-hash' | 'random';

/** One upstream pool. */
export interface UpstreamConfig {
  /** Absent when a plugin provides the targets at run time, or the registry does. */
  targets?: TargetDeclaration[];
  /** The registry entry whose targets this upstream follows. */
  registry?: string;
  balance: BalancePolicy;
  hashKey: string;
  maxConnectionsPerTarget: number;
  queue: { max: number; timeoutMs: number };
  deadlineHeaders: { absolute: string; relative: string };
  healthCheck?: { path: string; intervalMs: number; timeoutMs: number; healthy: number; unhealthy: number };
  outlier?: { consecutiveFailures: number; ejectMs: number; maxEjectedPercent: number };
  retry?: { attempts: number; on: RetryCause[]; budgetPercent: number; nonIdempotent: boolean };
  timeout: number;
  maxSockets: number;
  maxFreeSockets: number;
  keepAliveMs: number;
  changeOrigin: boolean;
  insecure: boolean;
}

/** `- <name>: {options}` as written in the config. */
export type PluginDeclaration = Record<string, unknown>;

/** One route. */
export interface RouteConfig {
  name?: string;
  match: {
    host?: string | string[];
    path?: string;
    pathExact?: string;
    pathRegex?: string;
    methods?: string[];
    headers?: Record<string, string | { regex: string }>;
  };
  stripPrefix?: string;
  rewrite?: { pattern: string; replacement: string };
  upstream?: string;
  websocket: boolean;
  plugins: PluginDeclaration[];
}
