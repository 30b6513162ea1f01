import { GatehouseError } from '../../core/plugin-api';
import { HASH_LENGTHS } from './schema';

/** Where the two placeholders are in a compiled path pattern. */
export interface PathPattern {
  readonly re: RegExp;
  /** Match a request path; undefined when it does not fit. */
  match(path: string): { hashtype: string; hashsum: string } | undefined;
}

/**
 * Compile `/files/:hashtype/:hashsum` (or any pattern with both placeholders once)
 * into an anchored regular expression; each placeholder matches one path segment.
 */
export function compilePattern(pattern: string): PathPattern {
  const parts = pattern.split(/(:hashtype|:hashsum)/);
  const names = parts.filter((p) => p === ':hashtype' || p === ':hashsum');
  if (names.length !== 2 || names[0] === names[1]) {
    throw new TypeError(`path "${pattern}" must contain :hashtype and :hashsum exactly once each`);
  }
  const source = parts.map((p) => (p === ':hashtype' || p === ':hashsum' ? '([^/]+)' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  const re = new RegExp(`^${source}$`);
  const typeFirst = names[0] === ':hashtype';
  return {
    re,
    match(path) {
      const m = re.exec(path);
      if (!m) return undefined;
      return typeFirst ? { hashtype: m[1], hashsum: m[2] } : { hashtype: m[2], hashsum: m[1] };
    },
  };
}

/**
 * Check a hash type and sum from the URL against the accepted types. Returns the
 * normalised pair (lower case, as hashlib writes them); throws a 400 otherwise.
 */
export function checkHash(hashtype: string, hashsum: string, accepted: ReadonlySet<string>): { hashtype: string; hashsum: string } {
  const type = hashtype.toLowerCase();
  if (!accepted.has(type)) {
    const shown = hashtype.length > 32 ? `${hashtype.slice(0, 32)}…` : hashtype;
    throw new GatehouseError('GH_ERR_BAD_REQUEST', `Unknown hash type "${shown}"; expected one of: ${[...accepted].join(', ')}`);
  }
  const length = HASH_LENGTHS[type];
  if (hashsum.length !== length || !/^[0-9a-fA-F]+$/.test(hashsum)) {
    throw new GatehouseError('GH_ERR_BAD_REQUEST', `A ${type} sum is ${length} hexadecimal digits`);
  }
  return { hashtype: type, hashsum: hashsum.toLowerCase() };
}
