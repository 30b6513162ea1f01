import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The real CLI, compiled, as users run it: `node bin/gatehouse.js …`. */
export const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin', 'gatehouse.js');
const CLI_JS = join(ROOT, 'dist', 'app', 'cli.js');

/** What a finished CLI run left. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Environment for the child: no ts-node, no tap loaders, so it runs exactly as a user's shell
 * would (and .ts plugins go through gatehouse's own loader); `extra` is added.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(NODE_OPTIONS|TS_NODE_|TAP|_TAPJS)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function newestSource(dir: string): number {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .reduce((max, f) => Math.max(max, statSync(join(dir, f)).mtimeMs), 0);
}

/** Build dist/ when it is missing or older than core/ or plugins/. */
export function buildIfStale(): void {
  const stale =
    !existsSync(CLI_JS) || statSync(CLI_JS).mtimeMs < Math.max(newestSource(join(ROOT, 'core')), newestSource(join(ROOT, 'plugins')));
  if (stale) spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', ROOT], { cwd: ROOT, stdio: 'inherit' });
  if (!existsSync(CLI_JS)) throw new Error(`build failed, ${CLI_JS} missing`);
}

type CliOptions = { cwd?: string; uid?: number; env?: NodeJS.ProcessEnv };

/** Spawn `node bin/gatehouse.js …`; `result` settles when it has exited and its output is read. */
function spawnCli(args: string[], opts: CliOptions): { child: ChildProcess; result: Promise<CliResult> } {
  const started = Date.now();
  const spawnOpts: SpawnOptions = { cwd: opts.cwd ?? ROOT, env: opts.env ?? childEnv() };
  let child: ChildProcess;
  if (opts.uid === undefined) child = spawn(process.execPath, [BIN, ...args], spawnOpts);
  else {
    // tap's processinfo adds its loader to NODE_OPTIONS of every child, and that loader writes
    // into .tap/ as the child's user: under another uid the shell drops it first.
    Object.assign(spawnOpts, { uid: opts.uid, gid: opts.uid });
    child = spawn('/bin/sh', ['-c', 'unset NODE_OPTIONS; exec "$0" "$@"', process.execPath, BIN, ...args], spawnOpts);
  }
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c;
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c;
  });
  const result = new Promise<CliResult>((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
  return { child, result };
}

/**
 * Run the CLI to its end; a run still going after `ms` is killed (SIGKILL) and reported with
 * its signal, so a command that should have failed cannot hang the test. `env` replaces the
 * environment (default: `childEnv()`).
 */
export function runCli(args: string[], opts: CliOptions & { ms?: number } = {}): Promise<CliResult> {
  const { child, result } = spawnCli(args, opts);
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.ms ?? 15000);
  return result.finally(() => clearTimeout(timer));
}

/** A CLI process that is serving: its child, the HTTP port it reported, and what it leaves when it exits. */
export interface RunningCli {
  child: ChildProcess;
  port: number;
  result: Promise<CliResult>;
}

/**
 * Start the CLI (`args`, e.g. `['start', '-c', file]`) and wait for its "gatehouse listening"
 * log line (the config must log at info). Killed (SIGKILL) when `t` ends unless the test made
 * it exit; rejects if it exits first or does not listen within `ms`.
 */
export async function startCli(
  t: { teardown(fn: () => unknown): void },
  args: string[],
  opts: CliOptions & { ms?: number } = {},
): Promise<RunningCli> {
  const { child, result } = spawnCli(args, opts);
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await result.catch(() => undefined);
  });
  const ms = opts.ms ?? 15000;
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`not listening after ${ms} ms:\n${buf}`)), ms);
    child.stdout!.on('data', (c: Buffer) => {
      buf += c;
      const line = buf.split('\n').find((l) => l.includes('"gatehouse listening"'));
      if (!line) return;
      clearTimeout(timer);
      resolve(JSON.parse(line).addresses.http.port);
    });
    void result.then(
      (r) => {
        clearTimeout(timer);
        reject(new Error(`exited ${r.code ?? r.signal} before listening:\n${r.stdout}${r.stderr}`));
      },
      (err: Error) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
  return { child, port, result };
}

/** Run `jobs` with at most `width` at a time (the machine is shared; each CLI run is a node start-up). */
export async function pooled<T>(jobs: (() => Promise<T>)[], width = 4): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]();
      }
    }),
  );
  return out;
}
