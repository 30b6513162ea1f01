import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { definePlugin } from '../../app';
import { errorCatalogue, errorCatalogueMarkdown } from '../../core/errors-doc';
import { defineErrors } from '../../core/plugin/errors';
import { builtinPlugins } from '../../plugins';

const ROOT = resolve(__dirname, '../..');
const catalogue = errorCatalogue(builtinPlugins);
const known = new Set(catalogue.map((e) => e.code));

/** Text files below `dir` (relative to the repo) with one of the extensions. */
function files(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (exts.some((e) => name.endsWith(e))) out.push(p);
    }
  };
  walk(resolve(ROOT, dir));
  return out;
}

t.test('docs/errors.md is what `gatehouse errors` prints', async (t) => {
  const doc = readFileSync(resolve(ROOT, 'docs/errors.md'), 'utf8');
  t.equal(doc, errorCatalogueMarkdown(builtinPlugins), 'out of date: run `npx tsc -p . && node bin/gatehouse.js errors > docs/errors.md`');
});

t.test('every code is unique, has an error status, a message and help', async (t) => {
  t.equal(known.size, catalogue.length, 'no code declared twice');
  for (const e of catalogue) {
    t.test(e.code, async (t) => {
      t.ok(e.status >= 400 && e.status <= 599, 'an HTTP error status');
      t.ok(e.message.length > 0, 'a default message');
      t.ok(e.fix.length >= 20, 'help on when it happens and what to do');
      if (e.source !== 'core') t.ok(e.code.startsWith(`GH_ERR_${e.source.toUpperCase().replace(/-/g, '_')}_`), 'named after its plugin');
    });
  }
});

t.test('every code is raised somewhere', async (t) => {
  const core = files('core', ['.ts'])
    .filter((f) => !/core\/errors(-help|-doc)?\.ts$/.test(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  for (const e of catalogue) {
    t.test(e.code, async (t) => {
      if (e.source === 'core') t.ok(core.includes(`'${e.code}'`), `core raises ${e.code}`);
      else {
        const what = e.code.slice(`GH_ERR_${e.source.toUpperCase().replace(/-/g, '_')}_`.length);
        const src = files(`plugins/${e.source}`, ['.ts'])
          .filter((f) => !f.endsWith('/errors.ts'))
          .map((f) => readFileSync(f, 'utf8'))
          .join('\n');
        t.match(src, new RegExp(`\\b(create|code)\\('${what}'`), `${e.source} raises ${what}`);
      }
    });
  }
});

t.test('no code named in source or docs is stale', async (t) => {
  const places = [
    ...files('core', ['.ts']),
    ...files('plugins', ['.ts', '.md']),
    ...files('examples', ['.ts', '.js', '.yaml', '.md']),
    resolve(ROOT, 'README.md'),
  ];
  for (const file of places) {
    // Whole tokens, so that a pattern such as GH_ERR_<PLUGIN>_<WHAT> is not read as a code.
    const named = new Set((readFileSync(file, 'utf8').match(/GH_ERR_[A-Z0-9_<>]*[A-Z0-9>]/g) ?? []).filter((c) => !c.includes('<')));
    const stale = [...named].filter((c) => !known.has(c));
    if (named.size) t.same(stale, [], `${relative(ROOT, file)} names only catalogued codes`);
  }
});

t.test('defineErrors and definePlugin refuse malformed catalogues', async (t) => {
  const ok = { status: 502, message: 'm', fix: 'f' };
  const cases: { desc: string; make: () => unknown; throws: RegExp }[] = [
    { desc: 'a lower-case name', make: () => defineErrors('p', { bad_name: ok }), throws: /UPPER_SNAKE_CASE/ },
    { desc: 'a success status', make: () => defineErrors('p', { X: { ...ok, status: 200 } }), throws: /400-599/ },
    {
      desc: 'errors of another plugin',
      make: () => definePlugin({ name: 'a', schema: {}, errors: defineErrors('b', { X: ok }), create: () => ({}) }),
      throws: /defined for "b"/,
    },
    {
      desc: 'creating an undeclared error',
      make: () => (defineErrors('p', { X: ok }) as ReturnType<typeof defineErrors<string>>).create('Y'),
      throws: /no error Y/,
    },
  ];
  for (const c of cases) t.test(c.desc, async (t) => t.throws(c.make, c.throws));
  const errors = defineErrors('my-plugin', { UPSTREAM_GONE: ok });
  const e = errors.create('UPSTREAM_GONE', 'detail');
  t.same(
    e.toJSON(),
    { error: { code: 'GH_ERR_MY_PLUGIN_UPSTREAM_GONE', status: 502, message: 'detail' } },
    'a created error carries the full code and status',
  );
});
