import { dirname, resolve } from 'node:path';
import { GatehouseError } from '../errors';
import type { PluginDefinition } from '../plugin/contract';
import {
  checkInstanceIds,
  checkProvided,
  deepFreeze,
  resolveDeclarations,
  type DeclarationContext,
  type ResolvedPlugin,
} from './declarations';
import { crossCheck } from './checks';
import { findConfig, firstSearchPlaces } from './find';
import { interpolateAll, missingError } from './interpolate';
import { plainDataProblems } from './plain';
import { coreSchema } from './schema';
import { coreSchemaAt, defaultsOf } from './defaults';
import type { ConfigSource } from './source';
import type { GatehouseConfig } from './types';
import { createValidators, formatAt, formatErrors, pathToPointer } from './validate';
import type { ErrorObject } from 'ajv';

export type { ResolvedPlugin } from './declarations';

/** A configuration ready to run. */
export interface LoadedConfig {
  /** Absolute path of the file, or `<inline>`. */
  readonly file: string;
  readonly dir: string;
  readonly config: Readonly<GatehouseConfig>;
  /** Global plugins, in order. */
  readonly globalPlugins: readonly ResolvedPlugin[];
  /** Route plugins, per route index, in order. */
  readonly routePlugins: readonly (readonly ResolvedPlugin[])[];
}

export { searchPlaces } from './find';

/**
 * Find (or take) a config file, interpolate `${ENV}`, validate it against core's
 * schema and every declared plugin's schema, and freeze it. All problems are
 * reported in one GH_ERR_CONFIG_INVALID error; nothing partial is ever returned.
 */
export async function loadConfig(
  file?: string,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; plugins?: readonly PluginDefinition[] } = {},
): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  let found;
  try {
    found = await findConfig(file, cwd);
  } catch (cause) {
    if (cause instanceof GatehouseError) throw cause;
    const err = cause as NodeJS.ErrnoException;
    if (err.code === 'ENOENT')
      throw new GatehouseError('GH_ERR_CONFIG_NOT_FOUND', `config file ${resolve(cwd, file ?? '')} does not exist`, { cause });
    if (err.code === 'EISDIR')
      throw new GatehouseError(
        'GH_ERR_CONFIG_NOT_FOUND',
        `${resolve(cwd, file ?? '')} is a directory; pass -c with the config file itself`,
        { cause },
      );
    throw new GatehouseError('GH_ERR_CONFIG_PARSE', `${file}: ${err.message}`, { cause });
  }
  if (!found || found.isEmpty) {
    throw new GatehouseError(
      'GH_ERR_CONFIG_NOT_FOUND',
      file
        ? `config file ${file} is empty`
        : `no config found in ${cwd} (looked for ${firstSearchPlaces.join(', ')}, .gatehouserc*, gatehouse.config.*); pass -c FILE`,
    );
  }
  return validateConfig(found.config, { file: found.filepath, source: found.source, env: options.env, plugins: options.plugins });
}

/**
 * Validate an already parsed config object (used by loadConfig and by createGateway with inline
 * config). `plugins`: the definitions plugin keys may name (the built-ins, from the caller).
 */
export function validateConfig(
  raw: unknown,
  ctx: { file?: string; source?: ConfigSource; env?: NodeJS.ProcessEnv; plugins?: readonly PluginDefinition[] } = {},
): LoadedConfig {
  const file = ctx.file ?? '<inline>';
  const dir = ctx.file ? dirname(ctx.file) : process.cwd();
  const source = ctx.source;
  // Everything below walks the value recursively and clones it: it must be a tree of JSON data.
  const notPlain = plainDataProblems(raw);
  if (notPlain.length) {
    const lines = notPlain.map((p) => formatAt(source, p.path, p.message));
    throw new GatehouseError('GH_ERR_CONFIG_INVALID', `${file}: ${lines.length} error(s):\n  ${lines.join('\n  ')}`, { details: lines });
  }
  // Unset variables are reported with the file and line:column of each placeholder, together
  // with every other error; the empty value each one leaves gets no second error.
  const interpolated = interpolateAll(raw, ctx.env ?? process.env, (path, message) => formatAt(source, path, message));
  const config = structuredClone(interpolated.value) as GatehouseConfig;
  const missing = interpolated.missing;
  const errors: string[] = missing.map((m) => m.line);
  const unset = missing.map((m) => pathToPointer(m.path));
  const reported = (list: readonly ErrorObject[] | null | undefined, under = ''): ErrorObject[] =>
    (list ?? []).filter((e) => !unset.some((u) => under + e.instancePath === u || (under + e.instancePath).startsWith(`${u}/`)));
  const validatorFor = createValidators();
  const validate = validatorFor(coreSchema);
  if (!validate(config)) errors.push(...formatErrors(reported(validate.errors), source));

  const top = (config && typeof config === 'object' ? config : {}) as Partial<GatehouseConfig>;
  const declared: DeclarationContext = {
    dir,
    source,
    errors,
    reported,
    validatorFor,
    plugins: ctx.plugins ?? [],
    upstreams: top.upstreams && typeof top.upstreams === 'object' ? Object.keys(top.upstreams) : [],
    compileTypeScript: top.server?.tuning?.typescript !== false,
  };
  const globalPlugins = resolveDeclarations(top.plugins, ['plugins'], declared);
  const routePlugins = (Array.isArray(top.routes) ? top.routes : []).map((r, i) =>
    resolveDeclarations(r?.plugins, ['routes', i, 'plugins'], declared),
  );
  checkInstanceIds([globalPlugins, ...routePlugins], source, errors);
  checkProvided(top.upstreams, [globalPlugins, ...routePlugins], source, errors, top.registry !== undefined);
  crossCheck(config, source, errors, dir);

  if (errors.length === missing.length && missing.length) throw missingError(missing);
  if (errors.length) {
    throw new GatehouseError('GH_ERR_CONFIG_INVALID', `${file}: ${errors.length} error(s):\n  ${errors.join('\n  ')}`, { details: errors });
  }
  // No listener declared: the http one with its schema defaults.
  if (!config.server.http && !config.server.https)
    config.server.http = defaultsOf(coreSchemaAt(['server', 'http'])) as GatehouseConfig['server']['http'];
  return Object.freeze({ file, dir, config: deepFreeze(config), globalPlugins, routePlugins });
}

export { deepFreeze } from './declarations';
