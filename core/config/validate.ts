import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';
import { closest } from 'fastest-levenshtein';
import type { JsonSchema } from '../plugin/contract';
import type { ConfigSource } from './source';

/**
 * A validator factory for one validation pass: one ajv instance for core's schema and every
 * plugin's, compiling each schema object once. Nothing of it is kept at module level, so
 * once a config is loaded the compiled validators (and the code ajv generated for them) are
 * garbage; a reload compiles afresh. `useDefaults` fills in documented defaults; `verbose`
 * keeps the schema beside each error so that messages can list what was expected.
 * `strictNumbers` refuses Infinity and NaN (YAML's `.inf`, `.nan`, `1e400`) where a number goes.
 * `code.optimize: false` skips ajv's optimisation passes over the generated code: each validator
 * runs once per load, and the garbage of those passes was enough for V8 to double its young
 * generation at start-up (heap committed after start 29.5 → 20 MiB; bench/README.md).
 */
export function createValidators(): (schema: JsonSchema) => ValidateFunction {
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    verbose: true,
    strict: false,
    allowUnionTypes: true,
    strictNumbers: true,
    code: { optimize: false },
  });
  addFormats(ajv);
  // RFC 3986 syntax alone accepts `http://127.0.0.1:99999`, which Node's URL (and so every
  // connection) refuses: a `uri` must also parse as a WHATWG URL.
  ajv.addFormat('uri', (s: string) => (fullFormats.uri as (v: string) => boolean)(s) && URL.canParse(s));
  const compiled = new Map<object, ValidateFunction>();
  return (schema) => {
    let v = compiled.get(schema);
    if (!v) {
      v = ajv.compile(schema);
      compiled.set(schema, v);
    }
    return v;
  };
}

/** Join path segments into a JSON pointer (RFC 6901 escaping), as ajv's `instancePath`. */
export function pathToPointer(path: readonly (string | number)[]): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Split a JSON pointer into path segments (numbers for array indices). */
export function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => {
      const k = s.replace(/~1/g, '/').replace(/~0/g, '~');
      return /^\d+$/.test(k) ? Number(k) : k;
    });
}

const show = (v: unknown): string => {
  // JSON has no Infinity or NaN (YAML's .inf, .nan, 1e400): JSON.stringify would say null.
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** Human message for one ajv error: what was found, what was expected. */
function describe(e: ErrorObject): { message: string; key?: string } {
  const p = e.params as Record<string, unknown>;
  // A schema may say in words what its pattern or `not` means (`errorMessage`, the name
  // ajv-errors and editors' YAML language servers use); type errors keep the generic text.
  const own = (e.parentSchema as { errorMessage?: unknown } | undefined)?.errorMessage;
  if (typeof own === 'string' && e.keyword !== 'type' && e.keyword !== 'required' && e.keyword !== 'additionalProperties') {
    return { message: `found ${show(e.propertyName ?? e.data)}: ${own}`, key: e.propertyName };
  }
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const known = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      const hint = known.length ? `; did you mean "${closest(key, known)}"? Expected one of: ${known.join(', ')}` : '';
      return { message: `unknown key "${key}"${hint}`, key };
    }
    case 'required':
      return { message: `missing required key "${String(p.missingProperty)}"` };
    case 'enum':
      return { message: `found ${show(e.data)}, expected one of ${(p.allowedValues as unknown[]).map(show).join(', ')}` };
    case 'type':
      return { message: `found ${show(e.data)}, expected ${String(p.type)}` };
    case 'propertyNames':
      return { message: `invalid key name ${show(p.propertyName)}` };
    case 'not':
      return { message: `found ${show(e.propertyName ?? e.data)}, which is not allowed here`, key: e.propertyName };
    default:
      return { message: `found ${show(e.data)}, expected it to ${(e.message ?? e.keyword).replace(/^must /, '')}` };
  }
}

/** Turn ajv errors into `file:line:col /json/path: message` lines (a path prefix places plugin options). */
export function formatErrors(errors: readonly ErrorObject[], source: ConfigSource | undefined, prefix: (string | number)[] = []): string[] {
  // oneOf/anyOf report every branch; keep the branch errors, drop the umbrella line.
  const useful = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if');
  const list = useful.length ? useful : errors;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of list) {
    if (e.keyword === 'propertyNames' && list.some((x) => x !== e && x.instancePath.startsWith(e.instancePath))) continue;
    const path = [...prefix, ...pointerToPath(e.instancePath)];
    const { message, key } = describe(e);
    out.push(formatAt(source, path, message, key));
  }
  return out.filter((l) => (seen.has(l) ? false : (seen.add(l), true)));
}

/** One error line for a JSON path. */
export function formatAt(source: ConfigSource | undefined, path: (string | number)[], message: string, key?: string): string {
  const pos = source?.locate(path, key);
  const where = source ? `${source.file}${pos ? `:${pos}` : ''} ` : '';
  return `${where}/${path.join('/')}: ${message}`;
}
