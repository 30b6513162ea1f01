import { STATUS_CODES, validateHeaderName, validateHeaderValue, type ServerResponse } from 'node:http';

/**
 * The error catalogue. Every error gatehouse reports, to a client or an operator,
 * has a stable code, an HTTP status and a default message.
 */
export const ERRORS = {
  GH_ERR_CONFIG_NOT_FOUND: { status: 500, message: 'No configuration file found' },
  GH_ERR_CONFIG_PARSE: { status: 500, message: 'Configuration file cannot be parsed' },
  GH_ERR_CONFIG_ENV: { status: 500, message: 'Configuration references an unset environment variable' },
  GH_ERR_CONFIG_INVALID: { status: 500, message: 'Configuration is invalid' },
  GH_ERR_LISTEN: { status: 500, message: 'A listener could not be opened' },
  GH_ERR_TLS: { status: 500, message: 'The TLS certificate or key cannot be used' },
  GH_ERR_PLUGIN_NOT_FOUND: { status: 500, message: 'Plugin cannot be found' },
  GH_ERR_PLUGIN_LOAD: { status: 500, message: 'Plugin failed to load' },
  GH_ERR_PLUGIN_START: { status: 500, message: 'Plugin failed to start' },
  GH_ERR_PLUGIN_FAILED: { status: 500, message: 'A plugin failed while handling the request' },
  GH_ERR_PLUGIN_TIMEOUT: { status: 500, message: 'A plugin did not finish starting or stopping in time' },
  GH_ERR_STORE_OPEN: { status: 500, message: 'The state store cannot be opened' },
  GH_ERR_STORE_UNAVAILABLE: { status: 503, message: 'The state store is unavailable' },
  GH_ERR_REGISTRY_INVALID: { status: 400, message: 'Invalid service registry entry' },
  GH_ERR_REGISTRY_NOT_FOUND: { status: 404, message: 'No such service in the registry' },
  GH_ERR_REGISTRY_OFF: { status: 404, message: 'The service registry is not enabled (registry: in the config)' },
  GH_ERR_BAD_REQUEST: { status: 400, message: 'Malformed request' },
  GH_ERR_URI_TOO_LONG: { status: 414, message: 'Request URI too long' },
  GH_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'Request header fields too large' },
  GH_ERR_REQUEST_TIMEOUT: { status: 408, message: 'Request timed out' },
  GH_ERR_BODY_TOO_LARGE: { status: 413, message: 'Request body too large' },
  GH_ERR_BODY_INVALID: { status: 400, message: 'Request body is malformed' },
  GH_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Request body has an unsupported media type' },
  GH_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  GH_ERR_NO_ROUTE: { status: 404, message: 'No route matches the request' },
  GH_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  GH_ERR_UPGRADE_REFUSED: { status: 400, message: 'WebSocket upgrades are not enabled on this route' },
  GH_ERR_NO_UPSTREAM: { status: 502, message: 'The route has no upstream to forward to' },
  GH_ERR_UPSTREAM_UNREACHABLE: { status: 502, message: 'The upstream could not be reached' },
  GH_ERR_UPSTREAM_BAD_RESPONSE: { status: 502, message: 'The upstream sent an answer that cannot be relayed' },
  GH_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'The upstream did not answer in time' },
  GH_ERR_UPSTREAM_NO_TARGETS: { status: 503, message: 'The upstream has no target to send the request to' },
  GH_ERR_UPSTREAM_QUEUE_FULL: { status: 503, message: "Every target of the upstream is at its limit and the upstream's queue is full" },
  GH_ERR_UPSTREAM_QUEUE_TIMEOUT: { status: 503, message: 'No target of the upstream became free within the queue timeout' },
  GH_ERR_UPSTREAM_DEADLINE: { status: 504, message: "The request's deadline passed before a target could take it" },
  GH_ERR_UNAUTHORIZED: { status: 401, message: 'A valid bearer token is required' },
  GH_ERR_UI_LOGIN: { status: 401, message: 'Log in to the dashboard at /ui/login' },
  GH_ERR_AUTH_LOCKED: { status: 429, message: 'Too many wrong admin tokens from this address' },
  GH_ERR_UI_CSRF: { status: 403, message: "The dashboard action lacks its session's CSRF token, or came from another origin" },
  GH_ERR_RELOAD_FAILED: { status: 500, message: 'Reload failed; the previous configuration stays active' },
  GH_ERR_INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A catalogued error code of core's. */
export type ErrorCode = keyof typeof ERRORS;

/** A plugin's error code, `GH_ERR_<PLUGIN>_<WHAT>`, declared with `defineErrors` in the plugin. */
export type PluginErrorCode = `GH_ERR_${string}`;

/** An error with a catalogue code and HTTP status; `message` may refine the default. */
export class GatehouseError extends Error {
  readonly code: ErrorCode | PluginErrorCode;
  readonly status: number;
  /** Extra structured detail for logs and JSON answers (never secrets). */
  readonly details?: unknown;

  /** A core error by code; plugins make theirs with their catalogue's `create` (core/plugin/errors.ts). */
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: unknown; status?: number });
  constructor(code: PluginErrorCode, message: string, options: { cause?: unknown; details?: unknown; status: number });
  constructor(code: ErrorCode | PluginErrorCode, message?: string, options?: { cause?: unknown; details?: unknown; status?: number }) {
    const core = (ERRORS as Record<string, { status: number; message: string } | undefined>)[code];
    super(message ?? core?.message ?? code, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'GatehouseError';
    this.code = code;
    this.status = options?.status ?? core?.status ?? 500;
    this.details = options?.details;
  }

  /** The JSON body sent to clients. */
  toJSON(): { error: { code: ErrorCode | PluginErrorCode; status: number; message: string } } {
    return { error: { code: this.code, status: this.status, message: this.message } };
  }
}

/** Wrap a failure from inside a plugin so that it names the plugin and keeps the cause. */
export function pluginError(
  code: 'GH_ERR_PLUGIN_LOAD' | 'GH_ERR_PLUGIN_START' | 'GH_ERR_PLUGIN_FAILED' | 'GH_ERR_PLUGIN_TIMEOUT',
  plugin: string,
  cause: unknown,
  at?: string,
): GatehouseError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new GatehouseError(code, `${ERRORS[code].message}: plugin "${plugin}"${at ? ` (${at})` : ''}: ${why}`, { cause });
}

/** A raw HTTP/1.1 JSON answer (with `connection: close`, and `headers` such as a WWW-Authenticate challenge) for a socket that has no ServerResponse. */
export function rawJsonAnswer(code: ErrorCode, message?: string): string;
export function rawJsonAnswer(error: GatehouseError, headers?: Record<string, string>): string;
export function rawJsonAnswer(what: ErrorCode | GatehouseError, extra?: string | Record<string, string>): string {
  const code = typeof what === 'string' ? what : what.code;
  const status = typeof what === 'string' ? ERRORS[what].status : what.status;
  const message = typeof what === 'string' ? (extra as string | undefined) : what.message;
  const body = JSON.stringify({ error: { code, status, message: message ?? ERRORS[code as ErrorCode].message } });
  const reason = STATUS_CODES[status] ?? 'Error';
  let more = '';
  if (typeof extra === 'object') {
    for (const [name, value] of Object.entries(extra)) {
      // Written raw, not through Node's writeHead: a name or value it would refuse is left out.
      try {
        validateHeaderName(name);
        validateHeaderValue(name, value);
      } catch {
        continue;
      }
      more += `${name}: ${value}\r\n`;
    }
  }
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${more}connection: close\r\n\r\n${body}`;
}

/**
 * The JSON error answer on a response whose head is not sent. Called only by `ctx.fail`
 * (core/pipeline/request-context.ts) and the admin router: the writers of error answers.
 */
export function answerError(res: ServerResponse, e: GatehouseError, headers?: Record<string, string>): void {
  const body = JSON.stringify(e.toJSON());
  res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Errors logged already (by a plugin's guard), so that the answer's writer does not log them again. */
const reported = new WeakSet<object>();

/** Mark an error as logged. */
export function markReported(err: object): void {
  reported.add(err);
}

/** Whether an error was logged already (one log line per failure). */
export function isReported(err: unknown): boolean {
  return typeof err === 'object' && err !== null && reported.has(err);
}

/** Any thrown value as a catalogued error (`GH_ERR_INTERNAL` for what is not one). */
export function asGatehouseError(err: unknown): GatehouseError {
  return err instanceof GatehouseError ? err : new GatehouseError('GH_ERR_INTERNAL', undefined, { cause: err });
}
