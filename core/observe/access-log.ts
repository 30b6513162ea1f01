import { resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import type { DestinationStream } from 'pino';
import { coreSchemaAt, defaultsOf } from '../config/defaults';
import type { JsonSchema } from '../plugin/contract';

/** `log.accessLog` as the config writes it (after the schema). */
export type AccessLogSetting = boolean | { format?: 'json' | 'combined'; sample?: number; file?: string; flushMs?: number };

/** One finished request, as the access log writes it. */
export interface AccessRecord {
  readonly method: string;
  /** The normalized path the route saw (json) / the request target as sent (combined). */
  readonly path: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly route: string;
  readonly upstream: string | undefined;
  readonly status: number;
  readonly durationMs: number;
  readonly bytes: number;
  readonly clientIp: string;
  readonly referer: string | undefined;
  readonly userAgent: string | undefined;
}

interface Writable {
  write(chunk: string): unknown;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

/** What nginx escapes in a quoted log field: `"`, `\` and bytes outside printable ASCII. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped
const NGINX_ESCAPED = /["\\\x00-\x1f\x7f-\uffff]/g;

/** nginx's escaping of a quoted log field (`\xHH`), `-` when absent. */
function nginxEscape(value: string | undefined): string {
  if (!value) return '-';
  NGINX_ESCAPED.lastIndex = 0;
  return NGINX_ESCAPED.test(value)
    ? value.replace(NGINX_ESCAPED, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`)
    : value;
}

/** `format`, `sample` and `flushMs` as the schema defaults them (also for `accessLog: true`). */
const DEFAULTS = defaultsOf((coreSchemaAt(['log', 'accessLog']).anyOf as JsonSchema[])[1]) as {
  format: 'json' | 'combined';
  sample: number;
  flushMs: number;
};

/** Pending bytes that are written at once, without waiting for `flushMs` (sonic-boom's largest single write). */
const FLUSH_AT = 16 * 1024;

/**
 * The access log: one line per request, in pino's JSON shape (`level`, `time`, the logger's
 * bindings, the fields, `msg: "request"`) or nginx's `combined`. Lines are built by hand, not by
 * pino (the record's shape is fixed), and buffered as nginx's `access_log … buffer= flush=`
 * does: written when 16 KiB are pending or `flushMs` after the first pending line, whichever
 * comes first, and on reopen and close. Each write is a syscall and a completion callback, which
 * cost more than building the line when made once per event-loop turn. With `sample` below 1
 * only that share of 1xx–3xx lines is written; 4xx and 5xx always are.
 */
export class AccessLog {
  private pending = '';
  private timer: NodeJS.Timeout | undefined = undefined;
  private isoMs = 0;
  private iso = '';
  private readonly prefix: string;
  private readonly bindings: string;
  private readonly time: () => string;
  private readonly dest: Writable;
  private readonly file?: pino.DestinationStream & { reopen(): void; end(): void };
  private readonly flushNow = () => this.flush();

  private constructor(
    logger: Logger,
    private readonly format: 'json' | 'combined',
    private readonly sample: number,
    file: string | undefined,
    private readonly flushMs: number,
  ) {
    if (file) {
      this.file = pino.destination({ dest: file, sync: false, mkdir: true }) as AccessLog['file'];
      this.dest = this.file!;
    } else this.dest = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
    const internals = logger as unknown as Record<symbol, unknown>;
    // pino's own serialization of the logger's bindings (`,"name":"gatehouse"`), made once, and
    // its time function (`,"time":…`), so that a line looks as pino would have written it.
    this.bindings = (internals[pino.symbols.chindingsSym] as string | undefined) ?? '';
    const time = internals[pino.symbols.timeSym] as (() => string) | undefined;
    this.time = time === pino.stdTimeFunctions.isoTime ? () => this.isoTime() : (time ?? (() => ''));
    this.prefix = `{"level":${logger.levels.values.info}`;
  }

  /** What the setting was made from: a reload that changes nothing keeps the log (and its file) open. */
  private key = '';

  /**
   * The access log a config asks for: `current` when the setting is unchanged, else a new one
   * (`current` flushed and closed), or undefined (off, or on stdout with the logger above info).
   * A relative `file` is resolved against `dir`, the config file's directory.
   */
  static update(current: AccessLog | undefined, setting: AccessLogSetting, logger: Logger, dir: string): AccessLog | undefined {
    const key = JSON.stringify([setting, dir]);
    if (current?.key === key) return current;
    current?.close();
    if (setting === false) return undefined;
    const o = { ...DEFAULTS, ...(setting === true ? {} : setting) };
    const file = o.file === undefined ? undefined : resolve(dir, o.file);
    if (!file && !logger.isLevelEnabled('info')) return undefined;
    const made = new AccessLog(logger, o.format, o.sample, file, o.flushMs);
    made.key = key;
    return made;
  }

  /** Add one request's line (written with the next flush). */
  write(r: AccessRecord): void {
    if (this.sample < 1 && r.status < 400 && Math.random() >= this.sample) return;
    this.pending += this.format === 'json' ? this.json(r) : this.combined(r);
    if (this.pending.length >= FLUSH_AT) this.flush();
    else if (this.timer === undefined) {
      // unref: pending lines alone must not keep a stopping process alive (close() flushes them).
      this.timer = setTimeout(this.flushNow, this.flushMs).unref();
    }
  }

  /** pino's isoTime, made once per millisecond rather than once per line. */
  private isoTime(): string {
    const ms = Date.now();
    if (ms !== this.isoMs) {
      this.isoMs = ms;
      this.iso = `,"time":"${new Date(ms).toISOString()}"`;
    }
    return this.iso;
  }

  private json(r: AccessRecord): string {
    return (
      `${this.prefix}${this.time()}${this.bindings},"access":true,"method":${JSON.stringify(r.method)},"path":${JSON.stringify(r.path)}` +
      `,"route":${JSON.stringify(r.route)}${r.upstream ? `,"upstream":${JSON.stringify(r.upstream)}` : ''},"status":${r.status}` +
      `,"duration_ms":${r.durationMs},"bytes":${r.bytes},"client_ip":${JSON.stringify(r.clientIp)},"msg":"request"}\n`
    );
  }

  private combined(r: AccessRecord): string {
    const d = new Date();
    const time = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
    const request = nginxEscape(`${r.method} ${r.url} HTTP/${r.httpVersion}`);
    return `${r.clientIp} - - [${time}] "${request}" ${r.status} ${r.bytes} "${nginxEscape(r.referer)}" "${nginxEscape(r.userAgent)}"\n`;
  }

  /** Write what is pending now. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const chunk = this.pending;
    this.pending = '';
    this.dest.write(chunk);
  }

  /** Reopen the file (after logrotate moved it: SIGUSR1, as nginx); a no-op on stdout. */
  reopen(): void {
    this.flush();
    this.file?.reopen();
  }

  /** Flush, and close the file if it has one of its own. */
  close(): void {
    this.flush();
    // end() flushes what the destination holds, once its file is open.
    this.file?.end();
  }
}
