import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { DependencyContainer } from 'tsyringe';
import type { ResolvedPlugin } from '../config/load';
import { GatehouseError, pluginError } from '../errors';
import type { GatewayMetrics } from '../observe/metrics';
import type { Middleware } from '../pipeline/context';
import type { PluginInstance, PluginScope } from './contract';

/** Services a plugin scope is built from. */
export interface ScopeDeps {
  logger: Logger;
  metrics: GatewayMetrics;
  container: DependencyContainer;
  configDir: string;
  upstreams: readonly string[];
  clientIp(req: IncomingMessage): string;
}

/** A created plugin with its name, for hooks and error messages. */
export interface LivePlugin {
  readonly name: string;
  readonly at: string;
  readonly instance: PluginInstance;
  readonly container: DependencyContainer;
  started: boolean;
}

/** Create one plugin instance in its own child container. */
export async function instantiate(p: ResolvedPlugin, deps: ScopeDeps): Promise<LivePlugin> {
  const name = p.definition.name;
  const container = deps.container.createChildContainer();
  const scope: PluginScope = {
    name,
    logger: deps.logger.child({ plugin: name }),
    metrics: deps.metrics.forPlugin(name),
    container,
    configDir: deps.configDir,
    upstreams: deps.upstreams,
    clientIp: deps.clientIp,
  };
  try {
    const instance = await p.definition.create(p.options, scope);
    if (!instance || typeof instance !== 'object') throw new TypeError('create() must return an object');
    return { name, at: p.at, instance, container, started: false };
  } catch (cause) {
    throw pluginError('GH_ERR_PLUGIN_LOAD', name, cause, p.at);
  }
}

/** Start plugins in order; on failure stop every one (started or not) and rethrow, naming the plugin. */
export async function startAll(plugins: readonly LivePlugin[], log: Logger): Promise<void> {
  for (const p of plugins) {
    try {
      await p.instance.start?.();
      p.started = true;
    } catch (cause) {
      await stopAll(plugins, log);
      throw pluginError('GH_ERR_PLUGIN_START', p.name, cause, p.at);
    }
  }
}

const stopped = new WeakSet<LivePlugin>();

/**
 * Stop plugins in reverse order; `stop` runs even after a partial start, and one failure does not stop the rest.
 * Each plugin is stopped at most once (a failed start is cleaned up by both startAll and its caller).
 */
export async function stopAll(plugins: readonly LivePlugin[], log: Logger): Promise<void> {
  for (const p of [...plugins].reverse()) {
    if (stopped.has(p)) continue;
    stopped.add(p);
    try {
      await p.instance.stop?.();
    } catch (err) {
      log.error({ plugin: p.name, err }, 'plugin stop failed');
    }
    await p.container.dispose();
  }
}

/** A plugin's handle, named after it for readable stacks, wrapping foreign errors with the plugin name. */
export function guardHandle(p: LivePlugin): Middleware | undefined {
  const handle = p.instance.handle;
  if (!handle) return undefined;
  const bound = handle.bind(p.instance);
  const wrap = (cause: unknown): never => {
    throw cause instanceof GatehouseError ? cause : pluginError('GH_ERR_PLUGIN_FAILED', p.name, cause);
  };
  // Not an async function: that would add a promise and an await per plugin per request.
  const guarded: Middleware = (ctx, next) => {
    let result;
    try {
      result = bound(ctx, next);
    } catch (cause) {
      return Promise.reject(cause instanceof GatehouseError ? cause : pluginError('GH_ERR_PLUGIN_FAILED', p.name, cause));
    }
    return result instanceof Promise ? result.catch(wrap) : result;
  };
  Object.defineProperty(guarded, 'name', { value: handle.name || p.name.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase()) });
  return guarded;
}
