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

/** One upstream pool. */
export interface UpstreamConfig {
  targets: string[];
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
