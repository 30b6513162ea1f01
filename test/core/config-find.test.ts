import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { findConfig } from '../../core/config/find';
import { parseWithPositions } from '../../core/config/source';

/**
 * `-c FILE` with a YAML/JSON file is read without cosmiconfig (to keep it out of memory);
 * the result must be exactly what cosmiconfig, with gatehouse's loaders, gives.
 */

const loader = (filepath: string, content: string): unknown => parseWithPositions(filepath, content).value;

async function viaCosmiconfig(file: string): Promise<unknown> {
  const explorer = cosmiconfig('gatehouse', {
    cache: false,
    searchStrategy: 'none',
    loaders: { '.yaml': loader, '.yml': loader, '.json': loader, noExt: loader },
  });
  return explorer.load(file);
}

const outcome = async (f: () => Promise<unknown>): Promise<unknown> => {
  try {
    const r = (await f()) as { filepath: string; config: unknown; isEmpty?: boolean } | null;
    return r && { filepath: r.filepath, config: r.config, isEmpty: r.isEmpty };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { error: err.message, code: err.code };
  }
};

t.test('findConfig(file) matches cosmiconfig.load for every kind of file', async (t) => {
  const dir = t.testdir({});
  const files: Record<string, string> = {
    'ok.yaml': 'routes: []\nupstreams: { a: { targets: [http://x] } }\n',
    'ok.yml': 'log: { level: debug }\n',
    'ok.json': '{ "routes": [], "n": 1 }',
    'empty.yaml': '',
    'blank.json': '  \n\t\n',
    'null.yaml': 'null\n',
    'comments.yaml': '# nothing here\n',
    'scalar.yaml': '0\n',
    'list.yaml': '- a\n- b\n',
    'imports.yaml': '$import: ./ok.yml\nroutes: []\n',
    'bad.yaml': 'routes: [\n',
    'dup.json': '{ "a": 1, "a": 2 }',
    '.gatehouserc': 'routes: []\n',
    'package.json': '{ "name": "x", "gatehouse": { "routes": [] } }',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  mkdirSync(join(dir, 'adir.yaml'));
  for (const name of [...Object.keys(files), 'adir.yaml', 'missing.yaml']) {
    await t.test(name, async (t) => {
      const file = join(dir, name);
      const ours = await outcome(() => findConfig(file, dir));
      const theirs = await outcome(() => viaCosmiconfig(file));
      t.same(ours, theirs, 'the same outcome as cosmiconfig');
    });
  }
});

t.test('findConfig keeps positions for YAML and JSON read directly', async (t) => {
  const dir = t.testdir({ 'g.yaml': 'server:\n  http: { port: 1 }\n' });
  const found = await findConfig('g.yaml', dir);
  t.equal(found?.source?.locate(['server', 'http', 'port']), '2:17', 'line:column of the value');
});
