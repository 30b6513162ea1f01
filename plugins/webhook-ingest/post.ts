import http, { type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';

/** What one delivery attempt got: a status, or why none came. */
export type PostResult =
  { readonly status: number; readonly retryAfter?: string; readonly ms: number } | { readonly error: string; readonly ms: number };

/**
 * POSTs to one destination over keep-alive sockets, at most `maxSockets` at once, each attempt
 * bounded by `timeoutMs` from start to the end of the answer (whose body is read and dropped).
 */
export class Poster {
  private readonly agents: { http?: http.Agent; https?: https.Agent } = {};

  /**
   * @param base the destination of one attempt, called once per attempt: a fixed URL, or the
   * upstream target chosen for it (rotation.ts; undefined while the upstream has none).
   */
  constructor(
    private readonly base: () => URL | undefined,
    private readonly timeoutMs: number,
    private readonly maxSockets: number,
  ) {}

  private agentFor(url: URL): http.Agent {
    const opts = { keepAlive: true, maxSockets: this.maxSockets, maxFreeSockets: this.maxSockets, timeout: 30000 };
    if (url.protocol === 'https:') return (this.agents.https ??= new https.Agent(opts));
    return (this.agents.http ??= new http.Agent(opts));
  }

  /** The URL a stored path is posted to: the base's path joined with it. */
  urlFor(path: string, base: URL): URL {
    const basePath = base.pathname.replace(/\/+$/, '');
    const q = path.indexOf('?');
    const url = new URL(base);
    url.pathname = basePath + (q < 0 ? path : path.slice(0, q));
    url.search = q < 0 ? '' : path.slice(q);
    return url;
  }

  post(path: string, body: Buffer, headers: OutgoingHttpHeaders, signal: AbortSignal): Promise<PostResult> {
    const started = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
    const base = this.base();
    if (!base) return Promise.resolve({ error: 'the upstream has no targets now', ms: 0 });
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: PostResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const url = this.urlFor(path, base);
      const req = (url.protocol === 'https:' ? https : http).request(url, {
        method: 'POST',
        agent: this.agentFor(url),
        headers: { ...headers, 'content-length': body.length },
      });
      const timer = setTimeout(() => {
        finish({ error: `no answer within ${this.timeoutMs} ms`, ms: ms() });
        req.destroy();
      }, this.timeoutMs);
      const onAbort = () => {
        finish({ error: 'delivery stopped (gatehouse stopping or reloading)', ms: ms() });
        req.destroy();
      };
      signal.addEventListener('abort', onAbort);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          const ra = res.headers['retry-after'];
          finish({ status: res.statusCode ?? 0, ...(ra ? { retryAfter: ra } : {}), ms: ms() });
        });
        res.on('error', (e) => finish({ error: `answer cut short: ${e.message}`, ms: ms() }));
        res.on('aborted', () => finish({ error: 'answer cut short', ms: ms() }));
      });
      req.on('error', (e: NodeJS.ErrnoException) => finish({ error: `${base.origin}: ${e.code ?? e.message}`, ms: ms() }));
      req.end(body);
    });
  }

  close(): void {
    this.agents.http?.destroy();
    this.agents.https?.destroy();
  }
}
