import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { DependencyContainer } from 'tsyringe';
import type { Context, Middleware } from '../pipeline/context';
import type { PluginMetrics } from '../observe/metrics';
import type { PluginErrors } from './errors';
import type { AdminRoute } from '../server/admin-router';
import type { TaskOptions } from './tasks';
import type { StateStore } from '../store/types';
import type { TargetDeclaration } from '../config/types';
import type { Selector } from '../upstream/balance';
import type { UpstreamInfo } from '../upstream/registry';

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
  /**
   * This instance's id: the declaration's `id:`, else `<name>#<n>` (the n-th declaration of the
   * plugin in the config). A log field and a metric label, so one plugin on two routes is told apart.
   */
  readonly instance: string;
  /** Logger tagged with `{ plugin: name }`. */
  readonly logger: Logger;
  /** Metric factory; every metric is prefixed `gatehouse_<name_in_snake_case>_`. */
  readonly metrics: PluginMetrics;
  /** A child DI container owned by this plugin instance; never the global one. */
  readonly container: DependencyContainer;
  /** Directory of the config file, for resolving relative paths in options. */
  readonly configDir: string;
  /** The gateway's live upstreams: read, watch, and set the targets of those this plugin provides. */
  readonly upstreams: UpstreamsScope;
  /** Client IP of a request under the gateway's trusted-proxy rules. */
  clientIp(req: IncomingMessage): string;
  /**
   * The state store (`store:`), namespaced by plugin name: kv, queues and locks that survive a
   * crash and that every gatehouse on the same store shares. Take it in `create` (no I/O yet):
   * core then opens the store before plugins start, so a store that cannot be opened refuses the
   * start. Operations reject with GH_ERR_STORE_UNAVAILABLE (503) when the backend fails.
   */
  readonly store: StateStore;
  /**
   * Declare background work owned by this config generation (call it in `create`; nothing runs
   * yet). Tasks start once every plugin has started; on reload or shutdown `signal` aborts and
   * the task must settle (within `server.pluginTimeout`) before the next generation starts. A
   * run that throws is logged, counted (`gatehouse_plugin_errors_total{hook="task"}`) and run
   * again after a backoff (1 s, doubling to 30 s); with `every`, runs repeat that many ms apart.
   */
  task(name: string, run: (signal: AbortSignal) => unknown, options?: TaskOptions): void;
  /**
   * Run `work` as in-flight work of this generation, as a request is: a reload lets it run to
   * its end (the retired generation's plugins stop once its requests and such work have ended),
   * and `signal` aborts only when the gateway shuts down, after the listeners drained
   * (`server.shutdownGrace`); `work` must then settle within `server.pluginTimeout`, while the
   * store is still open. For work started at run time that a reload must not cut short (a job
   * carried out for a client); give it a bound of its own, since a retired generation waits for
   * it. Resolves or rejects as `work` does.
   */
  inflight<T>(work: (signal: AbortSignal) => Promise<T> | T): Promise<T>;
  /**
   * Declare an endpoint on the admin listener, behind the admin token, at
   * `/plugins/<instance><path>` (`#` in the instance id is written `%23` in the URL).
   */
  admin(route: AdminRoute): void;
  /** Declare a readiness check: `true`, or why not; `/readyz` answers 503 with the reasons while any says why not. */
  ready(check: () => true | string): void;
}

/**
 * The gateway's upstreams as a plugin sees them. They belong to the gateway and outlive config
 * generations; what a plugin watches or installs is undone when its generation retires.
 */
export interface UpstreamsScope {
  /** Names of the declared upstreams. */
  list(): string[];
  /** Whether an upstream of that name is declared. */
  includes(name: string): boolean;
  /** An upstream's targets and their state now. */
  get(name: string): UpstreamInfo | undefined;
  /** Call `cb` after each change of the upstream's targets or settings (undefined: it was removed); returns the unsubscribe. */
  watch(name: string, cb: (info: UpstreamInfo | undefined) => void): () => void;
  /**
   * Replace the targets of an upstream this plugin provides (its definition's `provides`): new
   * requests use them at once, in-flight ones finish, removed targets' connections close after
   * them. Throws a TypeError for an upstream it does not provide or an invalid target.
   */
  set(name: string, targets: readonly TargetDeclaration[]): void;
  /** Choose this upstream's targets with `selector` instead of its `balance` policy, while this generation serves. */
  useSelector(name: string, selector: Selector): void;
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
  /**
   * Release resources. Must cope with a partial or failed `start`. Called once the generation's
   * in-flight requests and `scope.inflight` work have ended (or, on shutdown, were given their time).
   */
  stop?(): Promise<void> | void;
}

/** What a plugin's `validate` is given: no I/O services, only what checks need. */
export interface ValidateScope {
  readonly name: string;
  /** Directory of the config file, for resolving relative paths in options. */
  readonly configDir: string;
  /** Names of the upstreams declared in the config. */
  readonly upstreams: readonly string[];
}

/** A problem `validate` found: a JSON pointer within the plugin's options (`''`: the options as a whole) and what is wrong. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** A plugin definition, as exported by a plugin module. */
export interface PluginDefinition<O = any> {
  /** kebab-case: folder, config key, log field and metric prefix. */
  readonly name: string;
  /** JSON Schema for the options; should set `additionalProperties: false`. */
  readonly schema: JsonSchema;
  /** The plugin's error codes (`defineErrors(name, …)`), listed in docs/errors.md. */
  readonly errors?: PluginErrors;
  /**
   * Everything `start` would refuse that the schema cannot say, checked before anything runs
   * (files read and parsed, names cross-checked against the config): `gatehouse validate` and
   * every start and reload call it, and its problems join the one config report with their
   * line:column. Synchronous; throwing counts as one problem.
   */
  validate?(options: Readonly<O>, scope: ValidateScope): readonly ConfigProblem[] | void;
  /**
   * Names of the upstreams whose targets this plugin sets at run time (`scope.upstreams.set`).
   * Such an upstream is declared in `upstreams:` and may leave `targets` out.
   */
  provides?(options: Readonly<O>): readonly string[];
  /** Build an instance from validated, defaulted and frozen options: wiring only, no I/O (that is `start`'s). */
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
  if (def.errors && def.errors.plugin !== def.name)
    throw new TypeError(`definePlugin(${def.name}): errors were defined for "${def.errors.plugin}"`);
  return Object.freeze({ ...def });
}
