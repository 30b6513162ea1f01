import { readFileSync } from 'node:fs';
import Module from 'node:module';

/** Node's (deprecated, still working) table of require hooks by file extension. */
function extensions(): Record<string, unknown> {
  return (Module as unknown as { _extensions: Record<string, unknown> })._extensions;
}

/** Whether `.ts` files can be required already: gatehouse's hook, ts-node's, or Node's own type stripping. */
export function typeScriptLoaded(): boolean {
  const current = extensions()['.ts'] as { gatehouse?: true } | undefined;
  const p = process as unknown as Record<symbol, unknown> & { features: { typescript?: unknown } };
  return Boolean(current && (current.gatehouse || p[Symbol.for('ts-node.register.instance')] || p.features.typescript));
}

/**
 * Let `require` load TypeScript plugins when gatehouse itself runs as compiled JS.
 * Under a TS runtime (ts-node, Node's own type stripping) its `.ts` loader is kept.
 * Any other existing `.ts` hook is not trusted to compile: instrumentation (pirates,
 * used by coverage tools and tap's processinfo) registers pass-through `.ts` hooks.
 */
export function ensureTypeScriptLoader(): void {
  if (typeScriptLoaded()) return;
  const exts = extensions();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  exts['.ts'] = function loadTs(mod: NodeJS.Module & { _compile(code: string, file: string): void }, file: string) {
    const out = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        sourceMap: false,
      },
    });
    mod._compile(out.outputText, file);
  };
  (exts['.ts'] as { gatehouse?: true }).gatehouse = true;
}
