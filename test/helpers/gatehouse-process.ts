import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/gatehouse.js');

/** bin/gatehouse.js runs dist/; build it once when absent (CI builds it in `npm ci`). */
export function ensureBuilt(): void {
  if (!existsSync(join(ROOT, 'dist/app/cli.js')))
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', ROOT], { stdio: 'inherit' });
}

/** A fresh temp dir, removed at teardown. */
export function tempDir(t: { teardown(fn: () => void): void }, prefix = 'gatehouse-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface GatehouseProcess {
  readonly child: ChildProcess;
  /** Parsed JSON log lines seen so far on stdout. */
  readonly logs: Record<string, any>[];
  /** Everything seen on stderr. */
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolve with the first log line matching, or reject after `ms`. */
  waitForLog(pred: (line: Record<string, any>) => boolean, ms?: number): Promise<Record<string, any>>;
  /** Bound ports, from the "gatehouse listening" line. */
  port: number;
  adminPort?: number;
}

/**
 * Run `node bin/gatehouse.js start -c FILE` as a real child process and wait until it
 * listens (within `listenMs`, default 20 s). Use port 0 in the config: the bound ports are read from the startup log.
 * The process is killed at teardown if the test has not made it exit.
 */
export async function startGatehouse(
  t: { teardown(fn: () => void | Promise<void>): void },
  file: string,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; listenMs?: number } = {},
): Promise<GatehouseProcess> {
  ensureBuilt();
  const child = spawn(process.execPath, [BIN, 'start', '-c', file], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, any>[] = [];
  const waiters = new Set<() => void>();
  let err = '';
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ msg: line, unparsed: true });
      }
    }
    waiters.forEach((w) => w());
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => {
      r({ code, signal });
      waiters.forEach((w) => w());
    }),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  t.teardown(async () => {
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const waitForLog = (pred: (l: Record<string, any>) => boolean, ms = 10000) =>
    new Promise<Record<string, any>>((res, rej) => {
      const check = () => {
        const hit = logs.find(pred);
        if (hit) return finish(() => res(hit));
        if (gone)
          return finish(() =>
            rej(new Error(`gatehouse exited before the expected log line; stderr: ${err}; logs: ${JSON.stringify(logs)}`)),
          );
      };
      const timer = setTimeout(
        () => finish(() => rej(new Error(`no matching log line within ${ms} ms; stderr: ${err}; logs: ${JSON.stringify(logs)}`))),
        ms,
      );
      const finish = (f: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      waiters.add(check);
      check();
    });
  const proc: GatehouseProcess = { child, logs, stderr: () => err, exited, waitForLog, port: 0 };
  const listening = await waitForLog((l) => l.msg === 'gatehouse listening', opts.listenMs ?? 20000);
  proc.port = listening.addresses.http.port;
  proc.adminPort = listening.addresses.admin?.port;
  return proc;
}

/** Try a TCP connection: resolves 'connected' or the error code (ECONNREFUSED once the listener is closed). */
export function tryConnect(port: number): Promise<string> {
  return new Promise((res) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      res('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => res(e.code ?? e.message));
  });
}

/** Poll `fn` until it returns true (errors count as false), or throw after `ms`. */
export async function until(fn: () => Promise<boolean>, ms = 5000, every = 50): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}
