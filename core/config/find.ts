import { readFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { parseWithPositions, type ConfigSource } from './source';

/** A config file found and parsed (the shape of a cosmiconfig result, plus positions). */
export interface FoundConfig {
  readonly filepath: string;
  readonly config: unknown;
  readonly isEmpty?: boolean;
  /** Where each JSON path sits in the file, for error messages (YAML and JSON files). */
  readonly source?: ConfigSource;
}

/** First names looked for when no `-c FILE` is given (cosmiconfig's own list follows). */
const OWN_SEARCH_PLACES = ['gatehouse.yaml', 'gatehouse.yml', 'gatehouse.json'];

/** Extensions parsed by {@link parseWithPositions} ('' is cosmiconfig's `noExt`, e.g. `.gatehouserc`). */
const POSITIONAL = new Set(['.yaml', '.yml', '.json', '']);

type Cosmiconfig = typeof import('cosmiconfig');

// cosmiconfig (and the JSON/JS loaders it pulls in) is only needed to search for a config
// or to read the kinds of file gatehouse does not parse itself: required on first use so
// that `start -c gatehouse.yaml` never loads it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cosmiconfigModule = (): Cosmiconfig => require('cosmiconfig') as Cosmiconfig;

/** Files looked for, in order, when no `-c FILE` is given. */
export function searchPlaces(): string[] {
  return [...OWN_SEARCH_PLACES, ...cosmiconfigModule().getDefaultSearchPlaces('gatehouse')];
}

/** The first names of {@link searchPlaces}, for messages (without loading cosmiconfig). */
export const firstSearchPlaces: readonly string[] = OWN_SEARCH_PLACES;

/**
 * Find (`file` undefined: search `cwd`) or read a config file, exactly as cosmiconfig does
 * (empty file → `isEmpty`, a document that is only `null` → null). YAML and JSON files
 * given by path are read here; everything else goes through cosmiconfig: searches,
 * `.js`/`.ts` configs, `package.json`, and files using cosmiconfig's `$import`.
 */
export async function findConfig(file: string | undefined, cwd: string): Promise<FoundConfig | null> {
  if (file !== undefined) {
    const filepath = resolve(cwd, file);
    const ext = extname(filepath);
    if (POSITIONAL.has(ext) && basename(filepath, ext) !== 'package') {
      const contents = await readFile(filepath, { encoding: 'utf-8' });
      if (contents.trim() === '') return { filepath, config: undefined, isEmpty: true };
      const { value, source } = parseWithPositions(filepath, contents);
      const imports = !!value && Object.prototype.hasOwnProperty.call(value, '$import');
      if (!imports) {
        if (value === null) return null;
        if (value === undefined) return { filepath, config: undefined, isEmpty: true };
        return { filepath, config: value, source };
      }
    }
  }
  return viaCosmiconfig(file, cwd);
}

async function viaCosmiconfig(file: string | undefined, cwd: string): Promise<FoundConfig | null> {
  const sources = new Map<string, ConfigSource>();
  const positionalLoader = (filepath: string, content: string): unknown => {
    const { value, source } = parseWithPositions(filepath, content);
    sources.set(filepath, source);
    return value;
  };
  const explorer = cosmiconfigModule().cosmiconfig('gatehouse', {
    searchPlaces: searchPlaces(),
    cache: false,
    searchStrategy: 'none',
    loaders: { '.yaml': positionalLoader, '.yml': positionalLoader, '.json': positionalLoader, noExt: positionalLoader },
  });
  const found = file !== undefined ? await explorer.load(resolve(cwd, file)) : await explorer.search(cwd);
  return found && { ...found, source: sources.get(found.filepath) };
}
