/** Deepest nesting a config may have; real ones stay under 12 levels (plugin options included). */
export const MAX_DEPTH = 64;
/** Most values (scalars, arrays, objects) a config may hold; bounds the work of a DAG of shared references. */
export const MAX_VALUES = 1_000_000;

/** A value that is not JSON data, at its JSON path. */
export interface PlainProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

function kindOf(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (typeof v === 'bigint') return `the BigInt ${String(v)}n`;
  const name = (v as object).constructor?.name;
  return name ? `a ${name}` : 'an object with a custom prototype';
}

const EXPECTED = 'expected JSON data (string, number, boolean, null, array or object)';

/**
 * Check that a parsed config is a tree of JSON data before anything else walks it: a YAML
 * alias inside its own anchor (`a: &a [*a]`) or a cyclic object from a `.js` config would send
 * interpolation and ajv into endless recursion, and functions, symbols, BigInts or class
 * instances (Date, Map, ...) cannot be cloned, validated or frozen meaningfully. Shared
 * references without a cycle (YAML aliases) are fine; yaml's `maxAliasCount` bounds them in
 * files, MAX_VALUES bounds them in objects passed in. Iterative, so depth never costs stack.
 */
export function plainDataProblems(root: unknown): PlainProblem[] {
  const problems: PlainProblem[] = [];
  if (root === undefined) return problems; // reported by the schema as a missing config
  if (typeof root === 'function') {
    return [
      {
        path: [],
        message:
          'found a function, expected the config object (a JavaScript config exports the object itself: module.exports = { routes: [...] }, or export default { ... })',
      },
    ];
  }
  // Depth-first with an explicit stack; `ancestors` holds the objects on the current path.
  type Frame = { value: unknown; path: (string | number)[]; exit?: boolean };
  const stack: Frame[] = [{ value: root, path: [] }];
  const ancestors = new Map<object, (string | number)[]>();
  let values = 0;
  while (stack.length) {
    const { value, path, exit } = stack.pop()!;
    if (exit) {
      ancestors.delete(value as object);
      continue;
    }
    if (++values > MAX_VALUES) {
      return [{ path: [], message: `the config holds more than ${MAX_VALUES} values (shared references expanded)` }];
    }
    if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number')
      continue;
    if (typeof value !== 'object') {
      problems.push({ path, message: `found ${kindOf(value)}, ${EXPECTED}` });
      continue;
    }
    const proto = Object.getPrototypeOf(value);
    const isArray = Array.isArray(value);
    if (!isArray && proto !== Object.prototype && proto !== null) {
      problems.push({ path, message: `found ${kindOf(value)}, ${EXPECTED}` });
      continue;
    }
    const seenAt = ancestors.get(value);
    if (seenAt) {
      return [
        {
          path,
          message: `refers back to /${seenAt.join('/')} (a YAML alias inside its own anchor, or a cyclic object); a config must be a tree`,
        },
      ];
    }
    if (path.length >= MAX_DEPTH) {
      return [{ path, message: `nested deeper than ${MAX_DEPTH} levels` }];
    }
    ancestors.set(value, path);
    stack.push({ value, path, exit: true });
    // Indexed by hand: Array.prototype.map on an array whose own `constructor` was replaced
    // (possible in a .js config) throws from its species lookup.
    const entries: [string | number, unknown][] = [];
    if (isArray) {
      const list = value as unknown[];
      for (let i = 0; i < list.length; i++) entries.push([i, list[i]]);
      const extra = Object.keys(list).filter((k) => !/^\d+$/.test(k));
      if (extra.length)
        problems.push({
          path,
          message: `found an array with extra properties (${extra
            .slice(0, 3)
            .map((k) => JSON.stringify(k))
            .join(', ')}), ${EXPECTED}`,
        });
    } else entries.push(...Object.entries(value));
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i][1], path: [...path, entries[i][0]] });
  }
  return problems;
}
