import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ConfigProblem, JsonSchema, PluginDefinition } from '../plugin/contract';
import { resolvePlugin } from '../plugin/loader';
import type { ConfigSource } from './source';
import type { PluginDeclaration } from './types';
import { formatAt, formatErrors, pathToPointer, pointerToPath } from './validate';

/** A plugin declaration resolved to its definition, with validated and frozen options. */
export interface ResolvedPlugin {
  /** The key as written (built-in name, path or package). */
  readonly key: string;
  readonly definition: PluginDefinition;
  readonly options: Readonly<Record<string, unknown>>;
  /** JSON path of the declaration, e.g. `/routes/0/plugins/1`. */
  readonly at: string;
  /** The declaration's `id:`, if it has one (else the instance is `<name>#<n>`). */
  readonly id?: string;
}

/** What resolving the plugin lists needs from the loader. */
export interface DeclarationContext {
  readonly dir: string;
  readonly source: ConfigSource | undefined;
  readonly plugins: readonly PluginDefinition[];
  readonly upstreams: readonly string[];
  /** `server.tuning.typescript`: compile `.ts` plugins with core's require hook. */
  readonly compileTypeScript: boolean;
  readonly validatorFor: (schema: JsonSchema) => ValidateFunction;
  /** Drops ajv errors under unset `${VAR}`s (reported once already). */
  readonly reported: (list: readonly ErrorObject[] | null | undefined, under?: string) => ErrorObject[];
  readonly errors: string[];
}

/** The plugin key of a declaration (`id` is the one other key a declaration may have). */
function declaredKey(decl: PluginDeclaration): string | undefined {
  const keys = Object.keys(decl).filter((k) => k !== 'id');
  return keys.length === 1 ? keys[0] : undefined;
}

/** A plugin's own `validate`: its problems, or what it threw, as lines of the one report. */
function pluginProblems(
  definition: PluginDefinition,
  options: Readonly<Record<string, unknown>>,
  ctx: DeclarationContext,
): ConfigProblem[] {
  if (!definition.validate) return [];
  try {
    return [...(definition.validate(options, { name: definition.name, configDir: ctx.dir, upstreams: ctx.upstreams }) ?? [])];
  } catch (err) {
    return [{ path: '', message: `validate() threw: ${(err as Error)?.message ?? String(err)}` }];
  }
}

/** Resolve one list of declarations (`plugins` of the config or of a route); problems go to `ctx.errors`. */
export function resolveDeclarations(list: unknown, base: (string | number)[], ctx: DeclarationContext): ResolvedPlugin[] {
  if (!Array.isArray(list)) return [];
  const out: ResolvedPlugin[] = [];
  list.forEach((decl: PluginDeclaration, i) => {
    if (!decl || typeof decl !== 'object') return; // reported by the core schema
    const key = declaredKey(decl);
    const path = [...base, i];
    if (key === undefined) {
      const keys = Object.keys(decl).filter((k) => k !== 'id');
      // None, or more than two keys in all: the core schema reported it.
      if (keys.length > 1 && Object.keys(decl).length <= 2)
        ctx.errors.push(
          formatAt(
            ctx.source,
            path,
            `one plugin per declaration, found ${keys.map((k) => `"${k}"`).join(' and ')} (only \`id:\` may stand beside the plugin)`,
          ),
        );
      return;
    }
    let definition: PluginDefinition;
    try {
      definition = resolvePlugin(key, ctx.dir, ctx.plugins, ctx.compileTypeScript);
    } catch (e) {
      ctx.errors.push(formatAt(ctx.source, path, (e as Error).message, key));
      return;
    }
    const opts = structuredClone(decl[key] ?? {}) as Record<string, unknown>;
    let check;
    try {
      check = ctx.validatorFor(definition.schema);
    } catch (e) {
      ctx.errors.push(formatAt(ctx.source, path, `plugin "${definition.name}" has an invalid schema: ${(e as Error).message}`, key));
      return;
    }
    if (!check(opts)) {
      ctx.errors.push(
        ...formatErrors(ctx.reported(check.errors, pathToPointer([...path, key])), ctx.source, [...path, key]).map(
          (l) => `${l} (plugin ${definition.name})`,
        ),
      );
      return;
    }
    const options = deepFreeze(opts);
    const problems = pluginProblems(definition, options, ctx);
    for (const p of problems)
      ctx.errors.push(`${formatAt(ctx.source, [...path, key, ...pointerToPath(p.path)], p.message)} (plugin ${definition.name})`);
    if (problems.length) return;
    out.push({ key, definition, options, at: `/${path.join('/')}`, id: typeof decl.id === 'string' ? decl.id : undefined });
  });
  return out;
}

/** Instance ids must be unique: they name admin paths and metric series. */
export function checkInstanceIds(lists: readonly (readonly ResolvedPlugin[])[], source: ConfigSource | undefined, errors: string[]): void {
  const seen = new Map<string, string>();
  for (const p of lists.flat()) {
    if (p.id === undefined) continue;
    const first = seen.get(p.id);
    if (first)
      errors.push(
        formatAt(
          source,
          [...pointerToPath(p.at), 'id'],
          `id "${p.id}" is already the id of the plugin at ${first}; instance ids must be unique`,
        ),
      );
    else seen.set(p.id, p.at);
  }
}

/**
 * Upstreams and the plugins that provide their targets (a definition's `provides`): an
 * upstream that lists no targets needs such a plugin, and a plugin may provide only declared
 * upstreams, once.
 */
export function checkProvided(
  upstreams: unknown,
  lists: readonly (readonly ResolvedPlugin[])[],
  source: ConfigSource | undefined,
  errors: string[],
  hasRegistry = false,
): void {
  const declared =
    upstreams && typeof upstreams === 'object' ? (upstreams as Record<string, { targets?: unknown; registry?: unknown }>) : {};
  const by = new Map<string, string>();
  for (const p of lists.flat()) {
    let names: readonly string[];
    try {
      names = p.definition.provides?.(p.options) ?? [];
    } catch (err) {
      errors.push(formatAt(source, pointerToPath(p.at), `provides() threw: ${(err as Error)?.message ?? String(err)}`));
      continue;
    }
    for (const name of names) {
      const first = by.get(name);
      if (!Object.hasOwn(declared, name))
        errors.push(formatAt(source, pointerToPath(p.at), `provides upstream "${name}", which is not declared under upstreams`));
      else if (first)
        errors.push(formatAt(source, pointerToPath(p.at), `provides upstream "${name}", which the plugin at ${first} provides already`));
      else by.set(name, p.at);
    }
  }
  for (const [name, u] of Object.entries(declared)) {
    if (!u || typeof u !== 'object') continue;
    const fed = u.registry !== undefined;
    if (fed && (u.targets !== undefined || by.has(name)))
      errors.push(
        formatAt(
          source,
          ['upstreams', name, 'registry'],
          'takes its targets from the registry: leave out targets (and plugins providing them)',
        ),
      );
    else if (fed && !hasRegistry)
      errors.push(formatAt(source, ['upstreams', name, 'registry'], 'needs the service registry: add `registry: {}` to the config'));
    else if (u.targets === undefined && !fed && !by.has(name))
      errors.push(
        formatAt(source, ['upstreams', name], 'no targets, and no declared plugin provides them: list targets, or registry: <service>'),
      );
  }
}

/** Freeze an object graph so that validated options can never change under a plugin. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
