/**
 * The gatehouse package: core's public API with the built-in plugins wired in. This is the
 * composition root (with app/cli.ts): core knows no plugin, and the built-ins are passed to it
 * from here, so adding a plugin never touches core.
 * @packageDocumentation
 */
import * as core from '../core';
import { builtinPlugins } from '../plugins';

export * from '../core';
export { builtinPlugins };
/** What jwt-auth leaves for later plugins: `ctx.get(JWT_CLAIMS)` is the verified token's claims. */
export { JWT_CLAIMS, type JwtClaims } from '../plugins/jwt-auth/state';
export { runWorker, type RunWorkerOptions, type RunningWorker, type WorkerTask, type WorkerContext } from '../plugins/load-balancer/worker';

/** The built-ins and the caller's own definitions (which may not reuse a built-in's name). */
function withBuiltins(plugins: readonly core.PluginDefinition[] = []): core.PluginDefinition[] {
  for (const p of plugins)
    if (builtinPlugins.some((b) => b.name === p.name)) throw new TypeError(`plugin "${p.name}" is a built-in plugin's name`);
  return [...builtinPlugins, ...plugins];
}

/** Load and validate a config, create and start its plugins (built-ins known by name). Call `listen()` to serve. */
export function createGateway(options: core.GatewayOptions = {}): Promise<core.Gateway> {
  return core.createGateway({ ...options, plugins: withBuiltins(options.plugins) });
}

/** {@link core.loadConfig} with the built-in plugins known by name. */
export function loadConfig(file?: string, options: Parameters<typeof core.loadConfig>[1] = {}): Promise<core.LoadedConfig> {
  return core.loadConfig(file, { ...options, plugins: withBuiltins(options.plugins) });
}

/** {@link core.validateConfig} with the built-in plugins known by name. */
export function validateConfig(raw: unknown, ctx: Parameters<typeof core.validateConfig>[1] = {}): core.LoadedConfig {
  return core.validateConfig(raw, { ...ctx, plugins: withBuiltins(ctx.plugins) });
}
