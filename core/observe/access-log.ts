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

/** Pending bytes (estimated) that are written at once, without waiting for `flushMs` (sonic-boom's largest single write). */
const FLUSH_AT = 16 * 1024;
/** A JSON line's length without the logger's bindings and the fields that vary (`level`, `time`, the keys, status, duration, bytes). */
const JSON_FIXED = 170;
/** A combined line's length without the fields that vary. */
const COMBINED_FIXED = 70;

/**
 * The access log: one line per request, in pino's JSON shape (`level`, `time`, the logger's
 * bindings, the fields, `msg: "request"`) or nginx's `combined`. Lines are built by hand, not by
 * pino (the record's shape is fixed), and buffered as nginx's `access_log … buffer= flush=`
 * does: written when about 16 KiB are pending or `flushMs` after the first pending line,
 * whichever comes first, and on reopen and close. A request only keeps its record (and the
 * time it ended); the lines of a batch are formatted together when it is written. Formatting
 * one line at a time between requests cost several times what it costs in a loop, where the
 * code and the caches stay warm; each write is a syscall and a completion callback. With
 * `sample` below 1 only that share of 1xx–3xx lines is written; 4xx and 5xx always are.
 */
export class AccessLog {
  /** The records of the lines not written yet, and when each request ended (ms since the epoch). */
  private records: AccessRecord[] = [];
  private ended: number[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private isoMs = 0;
  private iso = '';
  private readonly prefix: string;
  private readonly bindings: string;
  /** The logger's `,"time":…` for a line that ended at `ms`. */
  private readonly time: (ms: number) => string;
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
    this.time = AccessLog.timeOf(time, (ms) => this.isoTime(ms));
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

  /**
   * pino's standard time functions, for the time a request ended rather than when its line is
   * formatted; another function (a logger passed in by the embedding program) is called when
   * the line is formatted, up to `flushMs` later.
   */
  private static timeOf(time: (() => string) | undefined, iso: (ms: number) => string): (ms: number) => string {
    const std = pino.stdTimeFunctions;
    if (time === std.isoTime) return iso;
    if (time === std.epochTime) return (ms) => `,"time":${ms}`;
    if (time === std.unixTime) return (ms) => `,"time":${Math.round(ms / 1000)}`;
    // nullTime among them: it returns ''.
    return time ?? (() => '');
  }

  /** Add one request's line (formatted and written with the next flush). */
  write(r: AccessRecord): void {
    if (this.sample < 1 && r.status < 400 && Math.random() >= this.sample) return;
    this.records.push(r);
    this.ended.push(Date.now());
    this.pendingBytes +=
      this.format === 'json'
        ? JSON_FIXED + this.bindings.length + r.path.length + r.route.length + (r.upstream?.length ?? 0) + r.clientIp.length
        : COMBINED_FIXED + r.clientIp.length + r.url.length + (r.referer?.length ?? 1) + (r.userAgent?.length ?? 1);
    if (this.pendingBytes >= FLUSH_AT) this.flush();
    else if (this.timer === undefined) {
      // unref: pending lines alone must not keep a stopping process alive (close() flushes them).
      this.timer = setTimeout(this.flushNow, this.flushMs).unref();
    }
  }

  /** pino's isoTime, made once per millisecond rather than once per line. */
  private isoTime(ms: number): string {
    if (ms !== this.isoMs) {
      this.isoMs = ms;
      this.iso = `,"time":"${new Date(ms).toISOString()}"`;
    }
    return this.iso;
  }

  /** `,"route":…,"upstream":…,"status":` by route: a route's lines mostly share one upstream. */
  private readonly routeParts = new Map<string, { upstream: string | undefined; text: string }>();

  private routePart(route: string, upstream: string | undefined): string {
    let part = this.routeParts.get(route);
    if (part === undefined || part.upstream !== upstream) {
      const text = `,"route":${JSON.stringify(route)}${upstream ? `,"upstream":${JSON.stringify(upstream)}` : ''},"status":`;
      part = { upstream, text };
      // Bounded by the routes of the config (and "none"); a reload makes a new AccessLog only when log settings change.
      if (this.routeParts.size < 4096) this.routeParts.set(route, part);
    }
    return part.text;
  }

  private json(r: AccessRecord, ended: number): string {
    return (
      `${this.prefix}${this.time(ended)}${this.bindings},"access":true,"method":${JSON.stringify(r.method)},"path":${JSON.stringify(r.path)}` +
      `${this.routePart(r.route, r.upstream)}${r.status},"duration_ms":${r.durationMs},"bytes":${r.bytes}` +
      `,"client_ip":${JSON.stringify(r.clientIp)},"msg":"request"}\n`
    );
  }

  private combined(r: AccessRecord, ended: number): string {
    const d = new Date(ended);
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
    const { records, ended } = this;
    if (records.length === 0) return;
    this.records = [];
    this.ended = [];
    this.pendingBytes = 0;
    const lines = new Array<string>(records.length);
    if (this.format === 'json') for (let i = 0; i < records.length; i++) lines[i] = this.json(records[i], ended[i]);
    else for (let i = 0; i < records.length; i++) lines[i] = this.combined(records[i], ended[i]);
    // join makes one flat string; `+=` would make a rope that every pass of the destination walks.
    this.dest.write(lines.join(''));
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
