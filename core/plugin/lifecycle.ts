import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { DependencyContainer } from 'tsyringe';
import type { ResolvedPlugin } from '../config/load';
import { ERRORS, GatehouseError, pluginError } from '../errors';
import type { GatewayMetrics } from '../observe/metrics';
import type { PluginInstance, PluginScope } from './contract';
import { bounded, type PluginGuard } from './guard';
import type { InflightWork } from './inflight';
import type { AdminRoute } from '../server/admin-router';
import type { TaskSpec } from './tasks';
import type { StoreHost } from '../store/host';
import type { StateStore } from '../store/types';
import { infoOf, type UpstreamRegistry } from '../upstream/registry';

/** Services a plugin scope is built from. */
export interface ScopeDeps {
  logger: Logger;
  metrics: GatewayMetrics;
  container: DependencyContainer;
  configDir: string;
  upstreams: UpstreamRegistry;
  clientIp(req: IncomingMessage): string;
  /** The gateway's store, shared by generations. */
  store: StoreHost;
  /** This generation's in-flight work (`scope.inflight`). */
  work: InflightWork;
}

/** What a plugin declared in `create` through its scope's services. */
export interface PluginServices {
  readonly tasks: TaskSpec[];
  /** Paths already under `/plugins/<instance>`. */
  readonly admin: AdminRoute[];
  readonly ready: (() => true | string)[];
  /** What to undo when the generation retires (watches, selectors). */
  readonly cleanup: (() => void)[];
}

/** A created plugin with its name, for hooks and error messages. */
export interface LivePlugin {
  readonly name: string;
  /** The instance id (`id:` of the declaration, else `<name>#<n>`). */
  readonly id: string;
  readonly at: string;
  readonly services: PluginServices;
  readonly instance: PluginInstance;
  readonly container: DependencyContainer;
  started: boolean;
}

/** The upstream names a declaration provides (its definition's `provides`). */
export function provides(p: ResolvedPlugin): ReadonlySet<string> {
  return new Set(p.definition.provides?.(p.options) ?? []);
}

/** A plugin's view of the upstream registry; what it watches or installs is undone with its generation. */
function upstreamsScope(
  registry: UpstreamRegistry,
  plugin: string,
  provided: ReadonlySet<string>,
  services: PluginServices,
): PluginScope['upstreams'] {
  return {
    list: () => [...registry.pools.keys()],
    includes: (name) => registry.pools.has(name),
    get(name) {
      const pool = registry.get(name);
      return pool ? infoOf(pool) : undefined;
    },
    watch(name, cb) {
      if (typeof cb !== 'function') throw new TypeError('watch: cb must be a function');
      const off = registry.watch(name, cb);
      services.cleanup.push(off);
      return off;
    },
    set(name, targets) {
      if (!provided.has(name))
        throw new TypeError(
          `plugin "${plugin}" does not provide upstream "${name}" (its definition's provides() lists: ${[...provided].join(', ') || 'none'})`,
        );
      if (!Array.isArray(targets)) throw new TypeError('set: targets must be an array');
      registry.setTargets(name, targets);
    },
    useSelector(name, selector) {
      if (!selector || typeof selector.pick !== 'function') throw new TypeError('useSelector: a selector has a pick() method');
      registry.useSelector(name, selector);
      services.cleanup.push(() => {
        const pool = registry.get(name);
        if (pool?.selectorIs(selector)) pool.useSelector(undefined);
      });
    },
  };
}

const ADMIN_PATH = /^\/[A-Za-z0-9._~:/*-]*$/;

/** Create one plugin instance, `instance` by id, in its own child container. */
export async function instantiate(p: ResolvedPlugin, instanceId: string, deps: ScopeDeps): Promise<LivePlugin> {
  const name = p.definition.name;
  const container = deps.container.createChildContainer();
  const services: PluginServices = { tasks: [], admin: [], ready: [], cleanup: [] };
  let store: StateStore | undefined;
  const scope: PluginScope = {
    name,
    instance: instanceId,
    logger: deps.logger.child({ plugin: name, instance: instanceId }),
    metrics: deps.metrics.forPlugin(name, instanceId),
    container,
    configDir: deps.configDir,
    upstreams: upstreamsScope(deps.upstreams, name, provides(p), services),
    clientIp: deps.clientIp,
    get store(): StateStore {
      // Taken, not merely offered: only then does the start open the store.
      store ??= deps.store.forPlugin(name);
      return store;
    },
    task(taskName, run, options = {}) {
      if (typeof run !== 'function') throw new TypeError(`task "${taskName}": run must be a function`);
      if (options.every !== undefined && !(Number.isInteger(options.every) && options.every > 0 && options.every <= 2147483647))
        throw new TypeError(`task "${taskName}": every must be a whole number of ms between 1 and 2147483647`);
      if (services.tasks.some((t) => t.name === taskName)) throw new TypeError(`task "${taskName}" is declared twice`);
      services.tasks.push({ plugin: name, instance: instanceId, name: taskName, run, options });
    },
    admin(route) {
      if (!ADMIN_PATH.test(route.path))
        throw new TypeError(`admin route ${JSON.stringify(route.path)}: a path starting with / (letters, digits, -._~:/ and :params)`);
      services.admin.push({ ...route, open: false, path: `/plugins/${instanceId}${route.path === '/' ? '' : route.path}` });
    },
    ready(check) {
      services.ready.push(check);
    },
    inflight(work) {
      if (typeof work !== 'function') throw new TypeError('inflight: work must be a function');
      return deps.work.run(work);
    },
  };
  try {
    const instance = await p.definition.create(p.options, scope);
    if (!instance || typeof instance !== 'object') throw new TypeError('create() must return an object');
    return { name, id: instanceId, at: p.at, services, instance, container, started: false };
  } catch (cause) {
    throw pluginError('GH_ERR_PLUGIN_LOAD', name, cause, p.at);
  }
}

/** The start or stop that did not finish within `server.pluginTimeout`. */
function timeoutError(p: LivePlugin, phase: 'start' | 'stop', ms: number, timeoutMs: number): GatehouseError {
  const limit =
    ms < timeoutMs
      ? `the ${ms} ms left of server.pluginTimeout (${timeoutMs} ms, shared by the stops before it)`
      : `${ms} ms (server.pluginTimeout)`;
  return new GatehouseError(
    'GH_ERR_PLUGIN_TIMEOUT',
    `${ERRORS.GH_ERR_PLUGIN_TIMEOUT.message}: plugin "${p.name}" (${p.at}): ${phase} did not finish within ${limit}`,
  );
}

/**
 * Start plugins in order, each within `timeoutMs`; on a failure or a timeout stop every one
 * (started or not) and reject naming the plugin. A timed-out start may still be running: its
 * plugin's stop is called all the same, which it must cope with.
 */
export async function startAll(plugins: readonly LivePlugin[], guard: PluginGuard, timeoutMs: number): Promise<void> {
  for (const p of plugins) {
    let err: GatehouseError | undefined;
    try {
      if (await bounded(() => p.instance.start?.(), timeoutMs)) p.started = true;
      else err = timeoutError(p, 'start', timeoutMs, timeoutMs);
    } catch (cause) {
      err = pluginError('GH_ERR_PLUGIN_START', p.name, cause, p.at);
    }
    if (err) {
      // Logged by the caller (reload, or the CLI refusing to start), with the reason.
      guard.count(p, 'start');
      await stopAll(plugins, guard, timeoutMs);
      throw err;
    }
  }
}

const stopped = new WeakSet<LivePlugin>();

/**
 * Stop plugins in reverse order; `stop` runs even after a partial start, and one failure does
 * not stop the rest. Each plugin is stopped at most once (a failed start is cleaned up by both
 * startAll and its caller). The whole call waits at most `timeoutMs`, shared by all plugins, so
 * that a shutdown is bounded by shutdownGrace + pluginTimeout however many plugins hang: a plugin
 * whose turn comes after a slow one gets what is left of the time.
 */
export async function stopAll(plugins: readonly LivePlugin[], guard: PluginGuard, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const p of [...plugins].reverse()) {
    if (stopped.has(p)) continue;
    stopped.add(p);
    const left = Math.max(0, deadline - Date.now());
    try {
      if (!(await bounded(() => p.instance.stop?.(), left))) {
        guard.count(p, 'stop');
        const e = timeoutError(p, 'stop', left, timeoutMs);
        guard.log.error({ err: e, code: e.code, plugin: p.name, at: p.at, hook: 'stop' }, e.message);
        continue; // its container may still be in use by the stop under way
      }
    } catch (err) {
      guard.count(p, 'stop');
      guard.log.error({ err, plugin: p.name, at: p.at, hook: 'stop' }, 'plugin stop failed');
    }
    await bounded(() => p.container.dispose(), Math.max(0, deadline - Date.now())).catch((err: unknown) => {
      guard.log.error({ err, plugin: p.name, at: p.at, hook: 'stop' }, 'plugin container dispose failed');
    });
  }
}
