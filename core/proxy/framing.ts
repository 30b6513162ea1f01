import type { ClientRequest, IncomingMessage } from 'node:http';
import { GatehouseError } from '../errors';
import { connectionNamesFraming } from './hop-by-hop';

/**
 * Why a request cannot be forwarded without risking a desync between gateway and upstream,
 * or undefined. Checked before routing; cheap when all is well (a length compare and one
 * property read).
 *
 * - More header lines than `maxHeaderCount`: Node keeps only `maxHeadersCount` of them in
 *   `req.headers` while its parser frames the body with all of them, so a Content-Length or
 *   Transfer-Encoding past the cut would frame a body core does not know of. The listener's
 *   `maxHeadersCount` is the limit plus one (listeners.ts), so an overflow shows here.
 * - A Connection header naming Content-Length, Transfer-Encoding or Host: hop-by-hop
 *   handling would strip the framing of a body that is still piped (request smuggling).
 * - An upgrade with a body: Node hands its bytes to the upgrade as the next protocol's.
 */
export function framingProblem(req: IncomingMessage, maxHeaderCount: number, upgrading: boolean): GatehouseError | undefined {
  if (req.rawHeaders.length > maxHeaderCount * 2) {
    return new GatehouseError('GH_ERR_HEADERS_TOO_LARGE', `More than ${maxHeaderCount} header fields`);
  }
  const headers = req.headers;
  if (headers.connection !== undefined && connectionNamesFraming(headers.connection)) {
    return new GatehouseError('GH_ERR_BAD_REQUEST', 'Connection must not name Content-Length, Transfer-Encoding or Host');
  }
  // Node emits the request before it refuses such a body: refused here, before any forwarding.
  if (headers['transfer-encoding'] !== undefined && !endsInChunked(headers['transfer-encoding'])) {
    return new GatehouseError('GH_ERR_BAD_REQUEST', 'Transfer-Encoding must end in chunked');
  }
  if (
    upgrading &&
    (headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0'))
  ) {
    return new GatehouseError('GH_ERR_BAD_REQUEST', 'An upgrade request must not carry a body');
  }
  return undefined;
}

/** Whether the last transfer coding is chunked (a request body is framed by nothing else). */
function endsInChunked(te: string): boolean {
  if (te === 'chunked') return true;
  const comma = te.lastIndexOf(',');
  return (
    te
      .slice(comma + 1)
      .trim()
      .toLowerCase() === 'chunked'
  );
}

/** A parsed Content-Length (digits only: Node refuses anything else) without leading zeros. */
function canonicalLength(v: string): string {
  if (v.length < 2 || v.charCodeAt(0) !== 48) return v;
  let i = 0;
  while (i < v.length - 1 && v.charCodeAt(i) === 48) i++;
  return v.slice(i);
}

/**
 * Transfer codings as parsed (Node accepts them only with chunked last, once), lowercased and
 * evenly spaced, so an upstream that compares them literally reads the same framing.
 */
function canonicalCoding(v: string): string {
  if (v === 'chunked') return v;
  return v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '')
    .join(', ');
}

/**
 * Give the upstream request exactly the framing Node's parser used for the client's body:
 * its Transfer-Encoding (Node re-chunks the decoded body), else its Content-Length, else no
 * body headers at all; whatever http-proxy copied or added (a `content-length: 0` on
 * DELETE/OPTIONS, after it dropped a Transfer-Encoding) or a plugin set is overruled.
 * Must run before the first body byte is written: the head is stored then.
 */
export function frameUpstream(proxyReq: ClientRequest, length: string | undefined, coding: string | undefined): void {
  if (coding !== undefined) {
    const te = canonicalCoding(coding);
    if (proxyReq.getHeader('transfer-encoding') !== te) proxyReq.setHeader('transfer-encoding', te);
    if (proxyReq.getHeader('content-length') !== undefined) proxyReq.removeHeader('content-length');
  } else if (length !== undefined) {
    const cl = canonicalLength(length);
    if (proxyReq.getHeader('content-length') !== cl) proxyReq.setHeader('content-length', cl);
    if (proxyReq.getHeader('transfer-encoding') !== undefined) proxyReq.removeHeader('transfer-encoding');
  } else {
    // No body: Node itself adds `content-length: 0` where a method expects one.
    if (proxyReq.getHeader('content-length') !== undefined) proxyReq.removeHeader('content-length');
    if (proxyReq.getHeader('transfer-encoding') !== undefined) proxyReq.removeHeader('transfer-encoding');
  }
}
