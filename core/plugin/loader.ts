import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { closest } from 'fastest-levenshtein';
import { GatehouseError } from '../errors';
import type { PluginDefinition } from './contract';

/**
 * Let `require` load TypeScript plugins when gatehouse itself runs as compiled JS.
 * Under a TS runtime (ts-node, Node's own type stripping) its `.ts` loader is kept.
 * Any other existing `.ts` hook is not trusted to compile: instrumentation (pirates,
 * used by coverage tools and tap's processinfo) registers pass-through `.ts` hooks.
 */
function ensureTypeScriptLoader(): void {
  const exts = (Module as unknown as { _extensions: Record<string, unknown> })._extensions;
  const current = exts['.ts'] as { gatehouse?: true } | undefined;
  const p = process as unknown as Record<symbol, unknown> & { features: { typescript?: unknown } };
  if (current && (current.gatehouse || p[Symbol.for('ts-node.register.instance')] || p.features.typescript)) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  exts['.ts'] = function loadTs(mod: NodeJS.Module & { _compile(code: string, file: string): void }, file: string) {
    const out = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true,
        experimentalDecorators: true, emitDecoratorMetadata: true, sourceMap: false,
      },
    });
    mod._compile(out.outputText, file);
  };
  (exts['.ts'] as { gatehouse?: true }).gatehouse = true;
}

function looksLikePath(key: string): boolean {
  return key.startsWith('./') || key.startsWith('../') || isAbsolute(key);
}

/**
 * Resolve a plugin key from the config: the name of one of `known` (the built-ins and any
 * definitions an embedder passed, given by the composition root: core knows no plugin), a path
 * relative to the config directory (.ts, .js, .mjs, .cjs) or an installed package name.
 */
export function resolvePlugin(key: string, configDir: string, known: readonly PluginDefinition[]): PluginDefinition {
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
  if (/\.[cm]?ts$/.test(file)) ensureTypeScriptLoader();
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file);
  } catch (cause) {
    throw new GatehouseError('GH_ERR_PLUGIN_LOAD', `plugin "${key}" failed to load from ${file}: ${(cause as Error).message}`, { cause });
  }
  const def = ((mod as { default?: unknown })?.default ?? mod) as PluginDefinition;
  if (!def || typeof def !== 'object' || typeof def.name !== 'string' || typeof def.create !== 'function' || typeof def.schema !== 'object') {
    throw new GatehouseError('GH_ERR_PLUGIN_LOAD', `plugin "${key}" (${file}) must export (default) a definePlugin({ name, schema, create }) object`);
  }
  return def;
}
