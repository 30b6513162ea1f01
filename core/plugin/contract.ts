import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { DependencyContainer } from 'tsyringe';
import type { Context, Middleware } from '../pipeline/context';
import type { PluginMetrics } from '../observe/metrics';

/**
 * The longest duration, in ms, a config may give: what Node's timers hold (2^31 - 1). A larger
 * value makes setTimeout fire after 1 ms instead, so every duration in a schema (core's and
 * plugins') takes this as its `maximum`.
 */
export const MAX_DURATION_MS = 2147483647;

/** JSON Schema (draft-07 / 2019 subset understood by ajv). */
export type JsonSchema = Record<string, unknown>;

/** What core hands to a plugin's `create`. */
export interface PluginScope {
  /** The plugin's kebab-case name. */
  readonly name: string;
  /** Logger tagged with `{ plugin: name }`. */
  readonly logger: Logger;
  /** Metric factory; every metric is prefixed `gatehouse_<name_in_snake_case>_`. */
  readonly metrics: PluginMetrics;
  /** A child DI container owned by this plugin instance; never the global one. */
  readonly container: DependencyContainer;
  /** Directory of the config file, for resolving relative paths in options. */
  readonly configDir: string;
  /** Names of the upstreams declared in the config. */
  readonly upstreams: readonly string[];
  /** Client IP of a request under the gateway's trusted-proxy rules. */
  clientIp(req: IncomingMessage): string;
}

/** A created plugin instance: middleware plus optional hooks. */
export interface PluginInstance {
  /** Onion middleware, run for each request on the routes that declare the plugin. */
  handle?: Middleware;
  /** Called with the outgoing upstream request before its headers are sent. */
  onProxyRequest?(ctx: Context, proxyReq: ClientRequest): void;
  /**
   * Called with the upstream response before its headers reach the client. Hop-by-hop
   * headers are already gone; what is left in `proxyRes.headers` afterwards is what core writes.
   */
  onProxyResponse?(ctx: Context, proxyRes: IncomingMessage): void;
  /**
   * Look at the upstream response before anything reaches the client. Return true
   * to take it over: the plugin must then consume `proxyRes` and answer `ctx`
   * itself (e.g. with `ctx.forward`). Declaring this makes core hold the response
   * head for the route's requests, so only plugins that need it should.
   */
  interceptResponse?(ctx: Context, proxyRes: IncomingMessage): boolean | void | Promise<boolean | void>;
  /** Optional I/O at startup (open files, connect). Failing aborts the start. */
  start?(): Promise<void> | void;
  /** Release resources. Must cope with a partial or failed `start`. */
  stop?(): Promise<void> | void;
}

/** A plugin definition, as exported by a plugin module. */
export interface PluginDefinition<O = any> {
  /** kebab-case: folder, config key, log field and metric prefix. */
  readonly name: string;
  /** JSON Schema for the options; should set `additionalProperties: false`. */
  readonly schema: JsonSchema;
  /** Build an instance from validated, defaulted and frozen options. */
  create(options: Readonly<O>, scope: PluginScope): PluginInstance | Promise<PluginInstance>;
}

/**
 * Declare a plugin. An identity function that exists for type inference and a
 * cheap shape check, so that a malformed plugin fails at load with a clear message.
 */
export function definePlugin<O = any>(def: PluginDefinition<O>): PluginDefinition<O> {
  if (!def || typeof def.name !== 'string' || !/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(def.name)) {
    throw new TypeError(`definePlugin: name must be kebab-case, got ${JSON.stringify(def?.name)}`);
  }
  if (typeof def.create !== 'function') throw new TypeError(`definePlugin(${def.name}): create must be a function`);
  if (!def.schema || typeof def.schema !== 'object') throw new TypeError(`definePlugin(${def.name}): schema must be an object`);
  return Object.freeze({ ...def });
}
