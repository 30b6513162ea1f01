import { STATUS_CODES } from 'node:http';

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
  GH_ERR_BAD_REQUEST: { status: 400, message: 'Malformed request' },
  GH_ERR_URI_TOO_LONG: { status: 414, message: 'Request URI too long' },
  GH_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'Request header fields too large' },
  GH_ERR_REQUEST_TIMEOUT: { status: 408, message: 'Request timed out' },
  GH_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  GH_ERR_NO_ROUTE: { status: 404, message: 'No route matches the request' },
  GH_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  GH_ERR_UPGRADE_REFUSED: { status: 400, message: 'WebSocket upgrades are not enabled on this route' },
  GH_ERR_NO_UPSTREAM: { status: 502, message: 'The route has no upstream to forward to' },
  GH_ERR_UPSTREAM_UNREACHABLE: { status: 502, message: 'The upstream could not be reached' },
  GH_ERR_UPSTREAM_BAD_RESPONSE: { status: 502, message: 'The upstream sent an answer that cannot be relayed' },
  GH_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'The upstream did not answer in time' },
  GH_ERR_UNAUTHORIZED: { status: 401, message: 'A valid bearer token is required' },
  GH_ERR_RELOAD_FAILED: { status: 500, message: 'Reload failed; the previous configuration stays active' },
  GH_ERR_FILE_NOT_FOUND: { status: 404, message: 'File does not exist.' },
  GH_ERR_METADATA_UNAVAILABLE: { status: 502, message: 'The metadata service could not be reached' },
  GH_ERR_METADATA_TIMEOUT: { status: 504, message: 'The metadata service did not answer in time' },
  GH_ERR_METADATA_INVALID: { status: 502, message: 'The metadata service answered something that is not a list of file records' },
  GH_ERR_ARCHIVE_FAILED: { status: 502, message: 'The archive could not deliver the file' },
  GH_ERR_ACCEL_REDIRECT_INVALID: { status: 502, message: 'The upstream asked for an internal redirect that cannot be served' },
  GH_ERR_INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A catalogued error code. */
export type ErrorCode = keyof typeof ERRORS;

/** An error with a catalogue code and HTTP status; `message` may refine the default. */
export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra structured detail for logs and JSON answers (never secrets). */
  readonly details?: unknown;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: unknown; status?: number }) {
    super(message ?? ERRORS[code].message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'GatehouseError';
    this.code = code;
    this.status = options?.status ?? ERRORS[code].status;
    this.details = options?.details;
  }

  /** The JSON body sent to clients. */
  toJSON(): { error: { code: ErrorCode; status: number; message: string } } {
    return { error: { code: this.code, status: this.status, message: this.message } };
  }
}

/** Wrap a failure from inside a plugin so that it names the plugin and keeps the cause. */
export function pluginError(code: 'GH_ERR_PLUGIN_LOAD' | 'GH_ERR_PLUGIN_START' | 'GH_ERR_PLUGIN_FAILED', plugin: string, cause: unknown, at?: string): GatehouseError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new GatehouseError(code, `${ERRORS[code].message}: plugin "${plugin}"${at ? ` (${at})` : ''}: ${why}`, { cause });
}

/** A raw HTTP/1.1 JSON answer (with `connection: close`) for a socket that has no ServerResponse. */
export function rawJsonAnswer(code: ErrorCode, message?: string): string {
  const { status } = ERRORS[code];
  const body = JSON.stringify({ error: { code, status, message: message ?? ERRORS[code].message } });
  const reason = STATUS_CODES[status] ?? 'Error';
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
