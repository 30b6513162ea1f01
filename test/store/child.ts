import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { StoreBackend } from '../../core/store/types';

/** How a child process opens the store under test (what the contract's `fresh` returns). */
export interface StoreSpec {
  readonly backend: 'sqlite' | 'redis';
  readonly options: object;
}

/** A running test/store/store-child.js. */
export interface StoreChild {
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Resolves with the first line (from the start) matching, or rejects after `ms` or on exit. */
  waitFor(pred: (line: string) => boolean, ms?: number): Promise<string>;
  /** Send a line on stdin (the roles' go signal). */
  send(line: string): void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

const CHILD = join(__dirname, 'store-child.js');

/** Environment without tap's loaders: the child runs compiled JS as a user's process would. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(NODE_OPTIONS|TS_NODE_|TAP|_TAPJS)/.test(k)) env[k] = v;
  return env;
}

/** Start store-child.js with `role`; killed (SIGKILL) at teardown if still running. */
export function storeChild(
  t: { teardown(fn: () => void | Promise<void>): void },
  spec: StoreSpec,
  role: string,
  ...args: string[]
): StoreChild {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(spec), role, ...args], { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      // Let readline hand over the last lines before anyone reads `lines`.
      setImmediate(() => {
        resolve({ code, signal });
        for (const w of waiters) w();
      });
    }),
  );
  let done = false;
  exited.then(() => (done = true));
  t.teardown(async () => {
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return {
    child,
    lines,
    exited,
    stderr: () => err,
    send: (line) => child.stdin!.write(line + '\n'),
    waitFor(pred, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = lines.find(pred);
          if (hit !== undefined) finish(() => resolve(hit));
          else if (done) finish(() => reject(new Error(`child ${role} exited before the line expected; stderr: ${err.slice(-2000)}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`child ${role}: line not seen within ${ms} ms; stderr: ${err.slice(-2000)}`))),
          ms,
        );
        const finish = (f: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Open the compiled store a spec names, in this process (as store-child.js does). */
export async function openSpec(t: { teardown(fn: () => void | Promise<void>): void }, spec: StoreSpec): Promise<StoreBackend> {
  const file = join(__dirname, '..', '..', 'dist', 'core', 'store', spec.backend, 'index.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known only at run time
  const mod = require(file) as Record<string, new (options: object) => StoreBackend>;
  const store = new mod[spec.backend === 'sqlite' ? 'SqliteStore' : 'RedisStore'](spec.options);
  await store.open();
  t.teardown(() => store.close());
  return store;
}
