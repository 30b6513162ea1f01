import { GatehouseError } from '../errors';

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;
/** A value that is exactly one `${VAR}` / `${VAR:-default}` placeholder (JSON Schema `pattern`). */
export const WHOLE_PLACEHOLDER = WHOLE.source;

/** An unset variable: the JSON path of the value that names it, and the formatted message. */
export interface MissingVariable {
  readonly path: readonly (string | number)[];
  readonly line: string;
}

/** The GH_ERR_CONFIG_ENV error for unset variables. */
export function missingError(missing: readonly MissingVariable[]): GatehouseError {
  const lines = missing.map((m) => m.line);
  return new GatehouseError('GH_ERR_CONFIG_ENV', `${lines.length} unset environment variable(s):\n  ${lines.join('\n  ')}`, {
    details: lines,
  });
}

/**
 * Replace `${VAR}` and `${VAR:-default}` in every string of a parsed config.
 * Interpolation happens after parsing, so a value can never inject YAML structure.
 * Unset variables without a default become '' and are all listed, each with its JSON path.
 */
export function interpolateAll<T>(
  value: T,
  env: NodeJS.ProcessEnv,
  format: (path: (string | number)[], message: string) => string,
): { value: T; missing: MissingVariable[] } {
  const missing: MissingVariable[] = [];
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === 'string') {
      const whole = WHOLE.exec(v);
      const out = v.replace(PATTERN, (_m, name: string, def: string | undefined) => {
        const got = env[name];
        // Like the shell, `${VAR:-d}` treats an empty value as unset; `${VAR}` keeps it.
        if (got !== undefined && (got !== '' || def === undefined)) return got;
        if (def !== undefined) return def;
        missing.push({ path, line: format(path, `\${${name}} is not set and has no default (write \${${name}:-value})`) });
        return '';
      });
      // `port: ${PORT:-8080}` should be a number: a value that is one placeholder and
      // reads as a number or boolean becomes one. Mixed text stays a string.
      if (whole && /^-?\d+(\.\d+)?$/.test(out)) return Number(out);
      if (whole && (out === 'true' || out === 'false')) return out === 'true';
      return out;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, [...path, k]);
      return out;
    }
    return v;
  };
  return { value: walk(value, []) as T, missing };
}
