/**
 * A small INI reader that follows Python's `configparser.RawConfigParser` defaults, which is
 * what the original region service read `regionData.cfg` with, so that existing files mean the
 * same thing here. (The `ini` package in node_modules is only a development dependency of the
 * test runner, and it differs on `:` delimiters, continuation lines and duplicate keys.)
 *
 * Supported, as in configparser: `[section]` headers; `key = value` and `key: value` (the first
 * `=` or `:` splits); keys are case-insensitive (lower-cased); keys and values are trimmed;
 * full-line comments starting with `#` or `;` (also indented); continuation lines indented
 * deeper than their key, joined with `\n`; a `[DEFAULT]` section whose keys every other section
 * inherits; duplicate sections or duplicate keys in one section are errors.
 * Not supported: inline comments (configparser keeps `a = b # c` as `b # c`, and so do we),
 * interpolation (RawConfigParser has none), keys without a value, blank lines inside values.
 */

/** One `key = value` entry. */
export interface IniEntry {
  readonly value: string;
  /** 1-based line of the key. */
  readonly line: number;
}

/** One `[section]` with its entries (including those inherited from `[DEFAULT]`). */
export interface IniSection {
  readonly name: string;
  /** 1-based line of the header. */
  readonly line: number;
  /** Entries by lower-cased key, in file order. */
  readonly entries: ReadonlyMap<string, IniEntry>;
}

/** A syntax error, with the 1-based line it was found on. */
export class IniSyntaxError extends Error {
  readonly line: number;

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'IniSyntaxError';
    this.line = line;
  }
}

const DEFAULT_SECTION = 'DEFAULT';

interface Pending {
  key: string;
  lines: string[];
  line: number;
  indent: number;
}

function indentOf(raw: string): number {
  return raw.length - raw.trimStart().length;
}

/**
 * Parses INI text into its sections, in file order, `[DEFAULT]` excluded (its keys are merged
 * into every section that does not set them itself).
 *
 * @throws IniSyntaxError on malformed lines, entries before the first section, duplicate
 *   sections or duplicate keys.
 */
export function parseIni(text: string): IniSection[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const sections: { name: string; line: number; entries: Map<string, IniEntry> }[] = [];
  const defaults = new Map<string, IniEntry>();
  const seen = new Set<string>();
  let current: Map<string, IniEntry> | undefined;
  let pending: Pending | undefined;

  const flush = (): void => {
    if (pending && current) {
      current.set(pending.key, { value: pending.lines.join('\n').trim(), line: pending.line });
    }
    pending = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const lineNo = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      // configparser ends a value at a comment line but keeps going after a blank one only to
      // collect more indented lines; ending it here too keeps values predictable.
      flush();
      continue;
    }
    const indent = indentOf(raw);
    if (pending && indent > pending.indent) {
      pending.lines.push(trimmed);
      continue;
    }
    flush();
    if (trimmed.startsWith('[')) {
      if (!trimmed.endsWith(']') || trimmed.length < 3) {
        throw new IniSyntaxError(lineNo, `malformed section header ${JSON.stringify(trimmed)}`);
      }
      const name = trimmed.slice(1, -1).trim();
      if (name === '') throw new IniSyntaxError(lineNo, 'empty section name');
      if (seen.has(name)) throw new IniSyntaxError(lineNo, `section [${name}] appears twice`);
      seen.add(name);
      if (name === DEFAULT_SECTION) {
        current = defaults;
      } else {
        current = new Map();
        sections.push({ name, line: lineNo, entries: current });
      }
      continue;
    }
    const eq = trimmed.search(/[=:]/);
    if (eq < 0) throw new IniSyntaxError(lineNo, `expected "key = value", got ${JSON.stringify(trimmed)}`);
    if (!current) throw new IniSyntaxError(lineNo, 'entry before the first [section] header');
    const key = trimmed.slice(0, eq).trim().toLowerCase();
    if (key === '') throw new IniSyntaxError(lineNo, 'entry without a key');
    if (current.has(key)) throw new IniSyntaxError(lineNo, `key "${key}" appears twice in the same section`);
    // Reserve the key now so that a duplicate is caught even while the value is still pending.
    current.set(key, { value: '', line: lineNo });
    pending = { key, lines: [trimmed.slice(eq + 1).trim()], line: lineNo, indent };
  }
  flush();

  return sections.map((s) => {
    const entries = new Map<string, IniEntry>();
    for (const [k, v] of defaults) if (!s.entries.has(k)) entries.set(k, v);
    for (const [k, v] of s.entries) entries.set(k, v);
    return { name: s.name, line: s.line, entries };
  });
}
