import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Relative imports of a file (static, dynamic and re-exports), resolved against the repo. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import\(|require\()\s*'(\.[^']+)'/g)].map((m) => m[1]);
  return specs.map((s) => relative(ROOT, resolve(dirname(file), s)));
}

t.test('built-in plugins import only the plugin API from core, and only their own folder otherwise', async (t) => {
  for (const file of tsFiles(resolve(ROOT, 'plugins'))) {
    const own = relative(ROOT, file).split('/').slice(0, 2).join('/');
    for (const target of imports(file)) {
      t.test(`${relative(ROOT, file)} → ${target}`, async (t) => {
        const allowed =
          target === 'core/plugin-api' ||
          (target.startsWith('plugins/') &&
            (relative(ROOT, file) === 'plugins/index.ts' || target.startsWith(`${own}/`) || target === own));
        t.ok(allowed, "core/plugin-api or the plugin's own files");
      });
    }
  }
});

t.test('the plugin API module exports only from core', async (t) => {
  for (const target of imports(resolve(ROOT, 'core/plugin-api.ts'))) t.ok(target.startsWith('core/'), target);
});

t.test('core never imports plugins/ or app/: the built-ins are passed in by the composition root', async (t) => {
  for (const file of tsFiles(resolve(ROOT, 'core'))) {
    const outside = imports(file).filter((target) => target.startsWith('plugins') || target.startsWith('app'));
    t.same(outside, [], relative(ROOT, file));
  }
});
