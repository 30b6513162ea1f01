import { extname, join } from 'node:path';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { GatehouseError } from '../../errors';
import type { KvChange } from '../types';
import type { ChangeRow, Request, WorkerInit, WorkerMessage } from './protocol';

/** One watch registered with {@link WorkerClient.watch}. */
interface Watcher {
  readonly prefix: string;
  readonly onChange: (change: KvChange) => void;
  readonly onError?: (err: Error) => void;
  /** Changes up to this revision happened before the watch began; undefined until the worker says. */
  since?: number;
}

interface Call {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** The caller's end of the worker thread that owns the connection: calls, replies, change fan-out. */
export class WorkerClient {
  private worker?: Worker;
  private port?: MessagePort;
  private nextId = 0;
  private readonly calls = new Map<number, Call>();
  private readonly watchers = new Set<Watcher>();
  /**
   * Calls made before the loop's check phase, posted as one message: the requests of one poll
   * phase (many sockets' data) share a postMessage, which costs more than the call itself.
   */
  private outbox: Request[] = [];
  private readonly post = (): void => {
    const batch = this.outbox;
    this.outbox = [];
    this.port?.postMessage(batch);
  };
  private closed?: Promise<void>;
  private failure?: Error;

  constructor(
    private readonly init: WorkerInit,
    private readonly logger?: Logger,
  ) {}

  /** Start the worker; resolves once the file is open and its tables exist. */
  async start(): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    // Beside this file: worker.js in dist/, worker.ts when running from source under a TS loader.
    const file = join(__dirname, `worker${extname(__filename)}`);
    // It needs none of the parent's loaders (--import, --require): under a test runner's
    // TypeScript loader they cost seconds per worker start. From source, a bare transpiling
    // hook loads worker.ts instead (a fifth of a second).
    const options = { workerData: { init: this.init, port: port2 }, transferList: [port2], execArgv: [] };
    const worker = file.endsWith('.js') ? new Worker(file, options) : new Worker(sourceBootstrap(file), { ...options, eval: true });
    this.worker = worker;
    this.port = port1;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        // The code the Redis store rejects open with too.
        this.failure = new GatehouseError('GH_ERR_STORE_OPEN', `SQLite store ${this.init.path}: cannot open: ${err.message}`, {
          status: 500,
          cause: err,
        });
        void worker.terminate();
        reject(this.failure);
      };
      port1.on('message', (m: WorkerMessage) => {
        if (m.kind === 'ready') resolve();
        else if (m.kind === 'failed') fail(new Error(m.message));
        else this.receive(m);
      });
      worker.once('error', fail);
      worker.once('exit', (code) => fail(new Error(`worker exited (${code})`)));
    });
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    worker.on('error', (err) => this.lost(err));
    worker.on('exit', (code) => this.lost(new Error(`SQLite store ${this.init.path}: worker exited (${code})`)));
    this.idle();
  }

  /** Run `op` in the worker's next transaction. */
  call<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.port || this.closed) return Promise.reject(new Error(`SQLite store ${this.init.path} is not open`));
    const id = this.nextId++;
    if (this.calls.size === 0) this.worker!.ref();
    if (this.outbox.push({ id, op, args }) === 1) setImmediate(this.post);
    return new Promise<T>((resolve, reject) => this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  /** Register a watch; the worker polls the change log while any watch exists. */
  watch(prefix: string, onChange: (change: KvChange) => void, onError?: (err: Error) => void): () => void {
    const w: Watcher = { prefix, onChange, onError };
    this.watchers.add(w);
    this.call<number>('watch').then(
      (rev) => (w.since = rev),
      (err: Error) => onError?.(err),
    );
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.watchers.delete(w);
      if (!this.closed && !this.failure) this.call('unwatch').catch(() => undefined);
    };
  }

  /** Let pending calls finish, then stop the worker. */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    if (!this.worker || this.failure) {
      this.closed = this.worker ? this.worker.terminate().then(() => undefined) : Promise.resolve();
      return this.closed;
    }
    const worker = this.worker;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const last = this.call('close');
    // Referenced until it has exited: a close awaited at the end of a program must finish.
    worker.ref();
    this.closed = last.then(
      () => exited,
      () => worker.terminate().then(() => undefined),
    );
    this.watchers.clear();
    return this.closed;
  }

  private receive(m: WorkerMessage): void {
    if (m.kind === 'replies') {
      for (const r of m.replies) {
        const call = this.calls.get(r.id);
        if (!call) continue;
        this.calls.delete(r.id);
        if (r.ok) call.resolve(r.value);
        else call.reject(Object.assign(new Error(r.message), r.code ? { code: r.code } : {}));
      }
      this.idle();
    } else if (m.kind === 'changes') this.fanOut(m.changes);
    else if (m.kind === 'log') this.logger?.[m.level]({ store: 'sqlite', path: this.init.path }, m.message);
  }

  private fanOut(rows: ChangeRow[]): void {
    for (const w of this.watchers) {
      if (w.since === undefined) continue;
      for (const row of rows) {
        if (row.rev <= w.since || !row.key.startsWith(w.prefix)) continue;
        const change: KvChange =
          row.type === 0
            ? { type: 'set', key: row.key, revision: row.rev, value: JSON.parse(row.value!) }
            : { type: 'delete', key: row.key, revision: row.rev };
        try {
          w.onChange(change);
        } catch (err) {
          this.logger?.error({ err, store: 'sqlite', prefix: w.prefix }, 'a store watch callback threw');
        }
      }
    }
  }

  /** An idle store does not keep the process alive; pending calls do. */
  private idle(): void {
    if (this.calls.size === 0 && this.watchers.size === 0 && !this.closed) this.worker?.unref();
  }

  private lost(err: Error): void {
    if (this.closed && this.calls.size === 0) return;
    this.failure = err;
    this.logger?.error({ err, store: 'sqlite', path: this.init.path }, 'the SQLite store worker stopped');
    for (const call of this.calls.values()) call.reject(err);
    this.calls.clear();
    for (const w of this.watchers) w.onError?.(err);
  }
}

/** A worker script that loads `file` (TypeScript) through the `typescript` package's transpiler alone. */
function sourceBootstrap(file: string): string {
  return `
const { readFileSync } = require('node:fs');
const ts = require(${JSON.stringify(require.resolve('typescript'))});
const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
require.extensions['.ts'] = (mod, name) => mod._compile(ts.transpileModule(readFileSync(name, 'utf8'), { fileName: name, compilerOptions: options }).outputText, name);
require(${JSON.stringify(file)});
`;
}
