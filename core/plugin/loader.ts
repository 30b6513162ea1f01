import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { closest } from 'fastest-levenshtein';
import { GatehouseError } from '../errors';
import type { PluginDefinition } from './contract';
import { ensureTypeScriptLoader, typeScriptLoaded } from '../tuning/typescript';

function looksLikePath(key: string): boolean {
  return key.startsWith('./') || key.startsWith('../') || isAbsolute(key);
}

/**
 * Resolve a plugin key from the config: the name of one of `known` (the built-ins and any
 * definitions an embedder passed, given by the composition root: core knows no plugin), a path
 * relative to the config directory (.ts, .js, .mjs, .cjs) or an installed package name.
 */
export function resolvePlugin(
  key: string,
  configDir: string,
  known: readonly PluginDefinition[],
  compileTypeScript = true,
): PluginDefinition {
  const named = known.find((p) => p.name === key);
  if (named) return named;
  const names = known.map((p) => p.name);
  let file: string;
  if (looksLikePath(key)) {
    file = resolve(configDir, key);
    if (!existsSync(file)) throw new GatehouseError('GH_ERR_PLUGIN_NOT_FOUND', `plugin file ${file} does not exist`);
  } else {
    try {
      file = require.resolve(key, { paths: [configDir, process.cwd()] });
    } catch {
      const hint = names.length ? `; did you mean "${closest(key, names)}"? Built-in plugins: ${names.join(', ')}` : '';
      throw new GatehouseError('GH_ERR_PLUGIN_NOT_FOUND', `unknown plugin "${key}" (not built in, not an installed package)${hint}`);
    }
  }
  if (/\.[cm]?ts$/.test(file)) {
    if (!compileTypeScript && !typeScriptLoaded())
      throw new GatehouseError(
        'GH_ERR_PLUGIN_LOAD',
        `plugin "${key}" is TypeScript (${file}), and server.tuning.typescript is off with no TypeScript loader running: compile it to .js, or turn the switch on`,
      );
    if (compileTypeScript) ensureTypeScriptLoader();
  }
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file);
  } catch (cause) {
    throw new GatehouseError('GH_ERR_PLUGIN_LOAD', `plugin "${key}" failed to load from ${file}: ${(cause as Error).message}`, { cause });
  }
  const def = ((mod as { default?: unknown })?.default ?? mod) as PluginDefinition;
  if (
    !def ||
    typeof def !== 'object' ||
    typeof def.name !== 'string' ||
    typeof def.create !== 'function' ||
    typeof def.schema !== 'object'
  ) {
    throw new GatehouseError(
      'GH_ERR_PLUGIN_LOAD',
      `plugin "${key}" (${file}) must export (default) a definePlugin({ name, schema, create }) object`,
    );
  }
  return def;
}
