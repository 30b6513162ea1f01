import http, { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Json } from '../../core/plugin-api';
import type { Outcome } from './records';

/** How much of a worker's error answer is kept as the message. */
const MESSAGE_MAX = 1000;
/** A worker's answer larger than this is refused (it is stored with the task). */
const ANSWER_MAX = 16 * 1024 * 1024;

/** What one push attempt got. */
export type PushResult =
  | { readonly kind: 'answer'; readonly outcome: Outcome }
  /** The worker could not be reached: nothing was sent, so nothing ran. */
  | { readonly kind: 'unreachable'; readonly error: string }
  /** The connection dropped after the task was sent. */
  | { readonly kind: 'dropped'; readonly error: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'aborted'; readonly reason: string };

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** A worker's answer as the task's outcome: 2xx JSON (or text) is the result; anything else fails with its code and message. */
export function outcomeOf(status: number, contentType: string | undefined, body: Buffer): Outcome {
  const text = body.toString('utf8');
  let json: Json | undefined;
  if (/\bjson\b/i.test(contentType ?? '') || (status >= 200 && status < 300 && /^\s*[[{"]/.test(text)))
    try {
      json = JSON.parse(text) as Json;
    } catch {
      json = undefined;
    }
  if (status >= 200 && status < 300) return { state: 'succeeded', result: json ?? text };
  const j = json as { code?: unknown; message?: unknown } | undefined;
  if (j && typeof j === 'object' && !Array.isArray(j) && typeof j.message === 'string')
    return {
      state: 'failed',
      error: { code: typeof j.code === 'string' || typeof j.code === 'number' ? j.code : status, message: j.message.slice(0, MESSAGE_MAX) },
    };
  return { state: 'failed', error: { code: status, message: text.slice(0, MESSAGE_MAX) || (STATUS_CODES[status] ?? 'error') } };
}

/** POSTs tasks to workers, one request per task, bounded by the task timeout and aborted on cancel. */
export class TaskPoster {
  private readonly agents = {
    http: new http.Agent({ keepAlive: true, maxFreeSockets: 64 }),
    https: new https.Agent({ keepAlive: true, maxFreeSockets: 64 }),
  };

  constructor(private readonly timeoutMs: number) {}

  post(url: URL, body: Buffer, headers: OutgoingHttpHeaders, signal: AbortSignal): Promise<PushResult> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: PushResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const tls = url.protocol === 'https:';
      const req = (tls ? https : http).request(url, {
        method: 'POST',
        agent: tls ? this.agents.https : this.agents.http,
        headers: { ...headers, 'content-length': body.length },
      });
      const timer = setTimeout(() => {
        finish({ kind: 'timeout' });
        req.destroy();
      }, this.timeoutMs);
      const onAbort = () => {
        finish({ kind: 'aborted', reason: String(signal.reason ?? 'aborted') });
        req.destroy();
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > ANSWER_MAX) {
            finish({
              kind: 'answer',
              outcome: { state: 'failed', error: { code: 'ANSWER_TOO_LARGE', message: `the answer exceeds ${ANSWER_MAX} bytes` } },
            });
            req.destroy();
          } else chunks.push(c);
        });
        res.on('end', () =>
          finish({ kind: 'answer', outcome: outcomeOf(res.statusCode ?? 0, res.headers['content-type'], Buffer.concat(chunks)) }),
        );
        res.on('aborted', () => finish({ kind: 'dropped', error: 'the worker cut its answer short' }));
        res.on('error', (e) => finish({ kind: 'dropped', error: `the worker cut its answer short: ${e.message}` }));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        const code = e.code ?? e.message;
        if (UNREACHABLE.has(code)) finish({ kind: 'unreachable', error: `${url.origin}: ${code}` });
        else finish({ kind: 'dropped', error: `${url.origin}: ${code}` });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
