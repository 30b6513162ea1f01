import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RedisStore } from '../../core/store/redis';
import { findServer } from './require-server';

/** Options of {@link startRedis}. */
export interface RedisServerOptions {
  /** Default `always` (what durability: strict needs). */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Default true. */
  appendonly?: boolean;
  /** Sets `requirepass`. */
  password?: string;
  /** More `--name value` arguments. */
  args?: string[];
}

/** A running redis-server of one test. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (with the password when one was set). */
  readonly url: string;
  readonly dir: string;
  /** The running server process (a new one after `restart`). */
  readonly process: ChildProcess;
  /** SIGKILL the server and wait for it to be gone. */
  kill(): Promise<void>;
  /** Start it again on the same port and dir (it reloads its AOF), after `kill`. */
  restart(): Promise<void>;
}

/** What of a tap Test these helpers use (tap's own fail/skip take (message, extra?)). */
type T = {
  teardown(fn: () => unknown): void;
  fail(...args: any[]): unknown;
  skip(...args: any[]): unknown;
};

/** A port nothing listens on right now (loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Whether the server on the port is serving: it answers PING with anything but `-LOADING` (a
 * password-protected server says NOAUTH). A server restarted from its AOF answers LOADING until
 * the dataset is read back, and a client connecting then waits for it.
 */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d: Buffer) => done(!d.toString('latin1').startsWith('-LOADING')));
  });
}

function args(port: number, dir: string, opts: RedisServerOptions): string[] {
  return [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', opts.appendonly === false ? 'no' : 'yes',
    '--appendfsync', opts.appendfsync ?? 'always',
    '--daemonize', 'no',
    '--logfile', '',
    ...(opts.password !== undefined ? ['--requirepass', opts.password] : []),
    ...(opts.args ?? []),
  ]; // prettier-ignore
}

/** Spawn and wait (30 s at most: an AOF may take long to load) until it serves; undefined (and killed) when it did not. */
async function spawnServer(
  bin: string,
  port: number,
  dir: string,
  opts: RedisServerOptions,
  log: { text: string },
): Promise<ChildProcess | undefined> {
  const child = spawn(bin, args(port, dir, opts), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let exited = false;
  child.on('exit', () => (exited = true));
  child.stderr?.on('data', (d: Buffer) => (log.text = (log.text + d.toString()).slice(-2000)));
  const deadline = Date.now() + 30_000;
  while (!exited && Date.now() < deadline) {
    if (await answers(port)) return child;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  return undefined;
}

function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * Start a real redis-server on a free loopback port in a temp dir (AOF with fsync on every write,
 * no RDB snapshots by default), wait until it answers, and SIGKILL it and remove the dir at
 * teardown. Undefined when redis-server is not installed (the test was skipped, loudly).
 * Never touches a system Redis.
 */
export async function startRedis(t: T, opts: RedisServerOptions = {}): Promise<RedisServer | undefined> {
  const bin = findServer(t, 'redis-server');
  if (!bin) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-redis-'));
  const log = { text: '' };
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    let child = await spawnServer(bin, port, dir, opts, log);
    if (!child) continue;
    t.teardown(async () => {
      await killed(child!);
      rmSync(dir, { recursive: true, force: true });
    });
    const auth = opts.password !== undefined ? `:${encodeURIComponent(opts.password)}@` : '';
    return {
      port,
      url: `redis://${auth}127.0.0.1:${port}`,
      dir,
      get process() {
        return child!;
      },
      kill: () => killed(child!),
      async restart() {
        await killed(child!);
        const next = await spawnServer(bin, port, dir, opts, log);
        if (!next) throw new Error(`redis-server did not start again on ${port}: ${log.text.slice(-500)}`);
        child = next;
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`redis-server did not start: ${log.text.slice(-500)}`);
}

/** An open RedisStore (strict) under a fresh prefix, closed at teardown. */
export async function openRedisStore(
  t: Pick<T, 'teardown'>,
  url: string,
  prefix = `t${Math.random().toString(36).slice(2)}:`,
): Promise<RedisStore> {
  const store = new RedisStore({ url, durability: 'strict', prefix });
  await store.open();
  t.teardown(() => store.close());
  return store;
}
