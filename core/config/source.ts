import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document } from 'yaml';
import { GatehouseError } from '../errors';

/** A parsed YAML/JSON file that can say where a JSON path sits in the text. */
export interface ConfigSource {
  readonly file: string;
  /** `line:column` of a JSON path (of its key when `key` is given), if known. */
  locate(path: readonly (string | number)[], key?: string): string | undefined;
}

/** yaml's limit on alias expansion (its own default): `count of alias uses × size of what each names`. */
const MAX_ALIAS_COUNT = 100;

/** Parse YAML or JSON (a YAML subset) keeping positions for error messages. */
export function parseWithPositions(file: string, text = readFileSync(file, 'utf8')): { value: unknown; source: ConfigSource } {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    // The first few errors are the useful ones; later ones usually cascade from them.
    const msgs = doc.errors.slice(0, 5).map((e) => {
      const pos = e.linePos?.[0];
      // yaml turns its own stack overflow on deeply nested flow collections into a parse error.
      const msg = /Maximum call stack size exceeded/.test(e.message) ? 'nested too deeply to parse' : e.message.split('\n')[0];
      return `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${msg}`;
    });
    // One message: a single error on its line; several under a summary, indented like GH_ERR_CONFIG_INVALID's.
    const text =
      msgs.length === 1
        ? msgs[0]
        : `${file}: ${doc.errors.length} parse error(s)${doc.errors.length > msgs.length ? `, the first ${msgs.length}` : ''}:\n  ${msgs.join('\n  ')}`;
    throw new GatehouseError('GH_ERR_CONFIG_PARSE', text, { details: msgs });
  }
  const at = (offset: number): string => {
    const p = lineCounter.linePos(offset);
    return `${p.line}:${p.col}`;
  };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount (a "billion laughs" file).
    const why =
      cause instanceof ReferenceError && /alias/i.test(cause.message)
        ? `YAML aliases expand past ${MAX_ALIAS_COUNT} copies (an alias bomb?); write the values out instead`
        : (cause as Error).message;
    throw new GatehouseError('GH_ERR_CONFIG_PARSE', `${file}: ${why}`, { cause });
  }
  return {
    value,
    source: {
      file,
      locate(path, key) {
        try {
          const node = path.length ? doc.getIn(path, true) : doc.contents;
          if (key !== undefined && isMap(node)) {
            const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
            const k = pair && isScalar(pair.key) ? pair.key : undefined;
            if (k?.range) return at(k.range[0]);
          }
          const range = (node as { range?: [number, number, number] } | undefined)?.range;
          return range ? at(range[0]) : undefined;
        } catch {
          return undefined;
        }
      },
    },
  };
}
