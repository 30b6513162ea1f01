import { GatehouseError, type PluginErrorCode } from '../errors';

/** One error a plugin can raise: its HTTP status, default message, and what an operator does about it. */
export interface ErrorDefinition {
  readonly status: number;
  readonly message: string;
  /** When it happens and how to fix it, for docs/errors.md. */
  readonly fix: string;
}

/** A plugin's error catalogue: codes `GH_ERR_<PLUGIN>_<WHAT>`, made with {@link defineErrors}. */
export interface PluginErrors<W extends string = string> {
  readonly plugin: string;
  /** Every full code with its definition. */
  readonly definitions: Readonly<Record<PluginErrorCode, ErrorDefinition>>;
  /** The full code of one of the plugin's errors. */
  code(what: W): PluginErrorCode;
  /** A GatehouseError with the plugin's code and status; `message` refines the default. */
  create(what: W, message?: string, options?: { cause?: unknown; details?: unknown }): GatehouseError;
}

const WHAT = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

/** `hash-rewrite` → `HASH_REWRITE`. */
export function codePrefix(plugin: string): string {
  return `GH_ERR_${plugin.toUpperCase().replace(/-/g, '_')}_`;
}

/**
 * Declare a plugin's errors once, in the plugin's own folder: `defineErrors('hash-rewrite',
 * { METADATA_TIMEOUT: { status: 504, message, fix } })` raises `GH_ERR_HASH_REWRITE_METADATA_TIMEOUT`
 * with `errors.create('METADATA_TIMEOUT')`. Pass the result to `definePlugin({ errors })` so the
 * catalogue (docs/errors.md) lists them.
 */
export function defineErrors<W extends string>(plugin: string, defs: Record<W, ErrorDefinition>): PluginErrors<W> {
  const prefix = codePrefix(plugin);
  const definitions: Record<PluginErrorCode, ErrorDefinition> = {};
  for (const [what, def] of Object.entries(defs) as [W, ErrorDefinition][]) {
    if (!WHAT.test(what)) throw new TypeError(`defineErrors(${plugin}): "${what}" must be UPPER_SNAKE_CASE`);
    if (!Number.isInteger(def.status) || def.status < 400 || def.status > 599)
      throw new TypeError(`defineErrors(${plugin}): ${what} needs an HTTP error status (400-599)`);
    definitions[`${prefix}${what}` as PluginErrorCode] = Object.freeze({ ...def });
  }
  Object.freeze(definitions);
  return Object.freeze({
    plugin,
    definitions,
    code: (what: W) => `${prefix}${what}` as PluginErrorCode,
    create(what: W, message?: string, options?: { cause?: unknown; details?: unknown }) {
      const code = `${prefix}${what}` as PluginErrorCode;
      const def = definitions[code];
      if (!def) throw new TypeError(`${plugin}: no error ${what} was declared`);
      return new GatehouseError(code, message ?? def.message, { ...options, status: def.status });
    },
  });
}
