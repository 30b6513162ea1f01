/**
 * Deterministic config mutations for the config fuzz test: the same seed gives the same
 * configs, so a failure names a seed and an index that reproduce it.
 */

/** mulberry32: a small seeded PRNG with a full 2^32 period, good enough to pick mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
export const pick = <T>(r: Rand, list: readonly T[]): T => list[Math.floor(r() * list.length)];

type Path = (string | number)[];

/** Every path in a JSON tree (containers and leaves), root excluded. */
export function pathsOf(value: unknown, base: Path = [], out: Path[] = []): Path[] {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = [...base, Array.isArray(value) ? Number(k) : k];
      out.push(p);
      pathsOf(v, p, out);
    }
  }
  return out;
}

function parentOf(root: unknown, path: Path): Record<string | number, unknown> | undefined {
  let node = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) node = node?.[k] as Record<string | number, unknown>;
  return node && typeof node === 'object' ? node : undefined;
}

const nested = (depth: number, leaf: unknown, asArray: boolean): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
};

/** A DAG of shared references whose expansion is 2^depth leaves (a billion laughs without YAML). */
const dagBomb = (depth: number): unknown => {
  let v: unknown = ['lol'];
  for (let i = 0; i < depth; i++) v = [v, v];
  return v;
};

/** Values a new user (or a fuzzer) puts where something else belongs. */
export const ODD_VALUES: readonly [string, (r: Rand) => unknown][] = [
  ['null', () => null],
  ['true', () => true],
  ['zero', () => 0],
  ['negative', () => -1],
  ['fraction', () => 0.5],
  ['huge number', () => 1e308],
  ['past 2^53', () => 2 ** 53 + 2],
  ['Infinity', () => Infinity],
  ['NaN', () => NaN],
  ['empty string', () => ''],
  ['numeric string', () => '8080'],
  ['long string', (r) => 'x'.repeat(10_000 + Math.floor(r() * 200_000))],
  ['long spaced string', () => `a${' '.repeat(100_000)}b `],
  ['unicode', (r) => pick(r, ['ルート', '🚀/api', 'e\u0301', '\u202eevil', '\ud800', 'a\u0000b', '\r\nset-cookie: x=1', 'Ä'.repeat(5000)])],
  ['empty array', () => []],
  ['empty object', () => ({})],
  ['array of junk', () => [null, 1, 'a', {}, []]],
  ['deep arrays', (r) => nested(50 + Math.floor(r() * 200), 1, true)],
  ['deep objects', (r) => nested(50 + Math.floor(r() * 200), 'x', false)],
  ['shared-reference bomb', () => dagBomb(30)],
  ['bad regex', (r) => pick(r, ['(', '[', '*', 'a{2,1}', '(?<', '\\', '(?<n>a)\\k<m>'])],
  ['catastrophic regex', (r) => pick(r, ['^(a+)+$', '(x+x+)+y', '^(([a-z])+.)+[A-Z]([a-z])+$', `(${'a?'.repeat(500)})${'a'.repeat(500)}`])],
  ['placeholder unset', () => '${GATEHOUSE_FUZZ_UNSET_VAR}'],
  ['placeholder default', () => '${GATEHOUSE_FUZZ_UNSET_VAR:-7}'],
  ['broken placeholder', () => '${'],
  ['prototype key', () => JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}')],
  ['a Date', () => new Date(0)],
  ['unknown plugin', () => [{ 'no-such-plugin': {} }]],
  ['plugin path missing', () => [{ './no-such-plugin.ts': {} }]],
  ['plugin null options', () => [{ respond: null }]],
  ['two plugins in one entry', () => [{ respond: {}, 'hash-rewrite': {} }]],
  ['url with bad port', () => 'http://127.0.0.1:99999'],
  ['url without scheme', () => '127.0.0.1:3000'],
];

/** Keys a user might misspell or invent. */
const ODD_KEYS = ['htp', 'Port', 'routes ', '', '__proto__', 'constructor', 'toString', 'x'.repeat(5000), '🚀', 'a/b', '~0'];

/** One mutation applied to a copy of `base`; the description says what was done, for failure messages. */
export function mutateData(r: Rand, base: unknown): { value: unknown; what: string } {
  const value = structuredClone(base);
  const paths = pathsOf(value);
  const rounds = 1 + Math.floor(r() * 3);
  const done: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const path = paths.length ? pick(r, paths) : [];
    const parent = path.length ? parentOf(value, path) : undefined;
    const key = path[path.length - 1];
    const op = Math.floor(r() * 5);
    if (!parent || key === undefined) continue;
    if (op === 0) {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      done.push(`delete /${path.join('/')}`);
    } else if (op === 1 || op === 2) {
      const [name, make] = pick(r, ODD_VALUES);
      parent[key] = make(r);
      done.push(`/${path.join('/')} = ${name}`);
    } else if (op === 3) {
      const k = pick(r, ODD_KEYS);
      const target = parent[key];
      const holder = target && typeof target === 'object' && !Array.isArray(target) ? (target as Record<string, unknown>) : parent;
      const [name, make] = pick(r, ODD_VALUES);
      Object.defineProperty(holder, k, { value: make(r), enumerable: true, configurable: true, writable: true });
      done.push(`add key ${JSON.stringify(k.slice(0, 20))} = ${name} near /${path.join('/')}`);
    } else {
      // Copy a sibling: duplicate routes (names), duplicate targets, repeated plugins.
      if (Array.isArray(parent)) parent.push(structuredClone(parent[Number(key)]));
      else parent[`${String(key)}2`] = structuredClone(parent[key]);
      done.push(`duplicate /${path.join('/')}`);
    }
  }
  return { value, what: done.join('; ') || 'unchanged' };
}

/** YAML text that only a parser sees: aliases, tags, broken syntax. */
export const ODD_TEXTS: readonly [string, (r: Rand, text: string) => string][] = [
  ['self alias', (_r, text) => `a: &a [*a]\n${text}`],
  ['self map alias', (_r, text) => `a: &a { b: *a }\n${text}`],
  [
    'alias bomb',
    (r, text) => {
      const width = 5 + Math.floor(r() * 6);
      const lines = [`l0: &l0 [${Array(width).fill('"lol"').join(', ')}]`];
      for (let i = 1; i < 9; i++)
        lines.push(
          `l${i}: &l${i} [${Array(width)
            .fill(`*l${i - 1}`)
            .join(', ')}]`,
        );
      return `${lines.join('\n')}\n${text}`;
    },
  ],
  ['undefined alias', (_r, text) => `a: *nowhere\n${text}`],
  [
    'deep flow',
    (r, text) => {
      const d = 100 + Math.floor(r() * 5000);
      return `x: ${'['.repeat(d)}${']'.repeat(d)}\n${text}`;
    },
  ],
  [
    'deep block',
    (r, text) => {
      const d = 70 + Math.floor(r() * 100);
      return `${Array.from({ length: d }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n${text}`;
    },
  ],
  ['truncated', (r, text) => text.slice(0, Math.floor(r() * text.length))],
  ['tab indent', (_r, text) => text.replace(/\n {2}/, '\n\t')],
  [
    'random byte',
    (r, text) => {
      const i = Math.floor(r() * text.length);
      return text.slice(0, i) + pick(r, ['\u0000', '\t', ':', '{', '[', '&', '*', '!', '%', '"', "'", '\ufeff', '\r']) + text.slice(i + 1);
    },
  ],
  [
    'tags',
    (r, text) =>
      `a: ${pick(r, ['!!binary aGVsbG8=', '!!js/function "x"', '!!set { x }', '!!timestamp 2001-12-14', '!!omap [ a: 1 ]', '!custom x', '!!int "x"', '!!float .inf'])}\n${text}`,
  ],
  ['duplicate key', (_r, text) => `${text}\nroutes: []\n`],
  ['merge key', (_r, text) => `base: &b { port: 1 }\nserver: { http: { <<: *b } }\n${text}`],
  ['directive', (_r, text) => `%YAML 1.1\n---\n${text}`],
  ['two documents', (_r, text) => `${text}\n---\nroutes: []\n`],
  ['bom and CRLF', (_r, text) => `\ufeff${text.replace(/\n/g, '\r\n')}`],
];

/** One text mutation (and sometimes a second). */
export function mutateText(r: Rand, text: string): { text: string; what: string } {
  const [name, apply] = pick(r, ODD_TEXTS);
  let out = apply(r, text);
  let what = name;
  if (r() < 0.3) {
    const [second, again] = pick(r, ODD_TEXTS);
    out = again(r, out);
    what += ` + ${second}`;
  }
  return { text: out, what };
}
