import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseError } from '../errors';

/** Options of {@link Context.readBody} and the readers built on it. */
export interface ReadBodyOptions {
  /** Largest body accepted, in bytes; 413 `GH_ERR_BODY_TOO_LARGE` beyond. Default: 1 MiB. */
  limit?: number;
}

/** 1 MiB: enough for webhooks and API calls; plugins that take uploads say how much they want. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * The rest of an over-long body is never read: the client connection closes after the answer,
 * so what is left of the body cannot be taken for the next request.
 */
export function bodyTooLarge(res: ServerResponse | undefined, limit: number): GatehouseError {
  if (res) res.shouldKeepAlive = false;
  return new GatehouseError('GH_ERR_BODY_TOO_LARGE', `Request body larger than ${limit} bytes`);
}

/**
 * Read a request body into one Buffer, refusing it as soon as it is known to pass `limit`
 * (at once from Content-Length, or when the chunks read pass it). A client that stops sending
 * is cut by the server's request timeout (`server.timeouts.request`, answered 408).
 */
export function readRequestBody(req: IncomingMessage, res: ServerResponse | undefined, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(bodyTooLarge(res, limit));
  if (req.readableEnded) return Promise.reject(new GatehouseError('GH_ERR_INTERNAL', 'The request body was already consumed'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(bodyTooLarge(res, limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onAborted = () => {
      cleanup();
      reject(new GatehouseError('GH_ERR_REQUEST_TIMEOUT', 'The client stopped sending the request body'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new GatehouseError('GH_ERR_BAD_REQUEST', `The request body could not be read: ${err.message}`, { cause: err }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onError);
  });
}

/** The media type of a Content-Type value, lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  if (!contentType) return '';
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** `application/json` or any `+json` type. */
export function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** A body read as JSON: 415 unless the type is JSON, 400 when it does not parse. */
export function parseJsonBody(body: Buffer, contentType: string | undefined): unknown {
  const type = mediaType(contentType);
  if (!isJsonType(type))
    throw new GatehouseError('GH_ERR_UNSUPPORTED_MEDIA_TYPE', `Expected a JSON body (application/json), got ${type || 'no Content-Type'}`);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new GatehouseError('GH_ERR_BODY_INVALID', `The body is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** A body read as an HTML form (application/x-www-form-urlencoded): 415 for any other type. */
export function parseFormBody(body: Buffer, contentType: string | undefined): URLSearchParams {
  const type = mediaType(contentType);
  if (type !== 'application/x-www-form-urlencoded') {
    throw new GatehouseError(
      'GH_ERR_UNSUPPORTED_MEDIA_TYPE',
      `Expected a form body (application/x-www-form-urlencoded), got ${type || 'no Content-Type'}`,
    );
  }
  const text = body.toString('utf8');
  // URLSearchParams keeps a malformed escape as literal text; a sender that garbles one is told.
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) throw new GatehouseError('GH_ERR_BODY_INVALID', 'The form body has a malformed percent-escape');
  return new URLSearchParams(text);
}
