import http from 'node:http';
import { join } from 'node:path';
import { tempDir, until } from '../../helpers/gatehouse-process';
import { request, startGateway, type Teardown } from '../../helpers/servers';

export const TOKEN = 'load-balancer-admin-token-32-chr';
export const WORKER_TOKEN = 'worker-token-of-some-length';
export const JSON_HEADERS = { 'content-type': 'application/json' };

/** What a test task asks the worker to do. */
export interface Job {
  /** Work this long (ms). Default 20. */
  ms?: number;
  /** Report this progress first (and wait for `hold` to be released before finishing, when given). */
  progress?: number;
  /** Wait until the test calls release(hold). */
  hold?: string;
  /** Answer with this status and JSON body instead of a result. */
  fail?: { status: number; body?: unknown };
  /** Destroy the connection instead of answering. */
  drop?: boolean;
  tag?: string;
}

/**
 * A worker on a port of its own, as a plain HTTP service: it runs a POSTed Job, reports progress
 * to Gatehouse-Progress-Url, and records how many tasks it ran at once and which ids it saw.
 */
export async function startWorker(t: Teardown) {
  let current = 0;
  let maxConcurrent = 0;
  const seen: string[] = [];
  const aborted: string[] = [];
  const holds = new Map<string, () => void>();
  const released = new Set<string>();
  const hold = (name: string) => (released.has(name) ? Promise.resolve() : new Promise<void>((r) => holds.set(name, r)));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const id = req.headers['gatehouse-task-id'] as string;
        current += 1;
        maxConcurrent = Math.max(maxConcurrent, current);
        seen.push(id);
        let closed = false;
        res.on('close', () => {
          if (!res.writableEnded) {
            closed = true;
            aborted.push(id);
          }
        });
        try {
          const job = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Job;
          if (job.progress !== undefined)
            await request(req.headers['gatehouse-progress-url'] as string, {
              method: 'POST',
              headers: JSON_HEADERS,
              body: JSON.stringify({ progress: job.progress, message: `at ${job.progress}` }),
            });
          if (job.hold) await hold(job.hold);
          await new Promise((r) => setTimeout(r, job.ms ?? 20));
          if (closed) return;
          if (job.drop) return req.socket.destroy();
          if (job.fail) return res.writeHead(job.fail.status, JSON_HEADERS).end(JSON.stringify(job.fail.body ?? {}));
          res.writeHead(200, JSON_HEADERS).end(JSON.stringify({ done: id, tag: job.tag ?? null, port }));
        } finally {
          current -= 1;
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  t.teardown(
    () =>
      new Promise<void>((r) => {
        for (const h of holds.values()) h();
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    aborted,
    get maxConcurrent() {
      return maxConcurrent;
    },
    get current() {
      return current;
    },
    release(name: string) {
      released.add(name);
      holds.get(name)?.();
    },
  };
}

/** A gateway with a SQLite store in a temp dir and the plugin (id `lb`, service `annotator`) on every path. */
export async function lbGateway(
  t: Teardown,
  targets: string[],
  options: Record<string, unknown> = {},
  upstream: Record<string, unknown> = {},
  shared?: string,
) {
  const dir = shared ?? tempDir(t, 'load-balancer-');
  const started = await startGateway(t, {
    store: `sqlite:${join(dir, 'gatehouse.db')}`,
    admin: { token: TOKEN, host: '127.0.0.1' },
    log: { accessLog: false },
    ...(targets.length > 0 ? { upstreams: { workers: { targets, maxConnectionsPerTarget: 1, ...upstream } } } : {}),
    routes: [
      {
        match: { path: '/' },
        plugins: [
          {
            'load-balancer': { service: 'annotator', ...(targets.length > 0 ? { upstream: 'workers' } : {}), pollMs: 20, ...options },
            id: 'lb',
          },
        ],
      },
    ],
  });
  return { ...started, dir, api: `${started.url}/annotator`, admin: `${started.adminUrl}/plugins/lb` };
}

/** A JSON call; resolves with status, headers and the parsed body. */
export async function call(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) {
  const r = await request(url, {
    method,
    headers: { ...(body !== undefined ? JSON_HEADERS : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  let json: any;
  try {
    json = r.body ? JSON.parse(r.body) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, json, text: r.body };
}

/** Admin API call with the token. */
export const admin = (base: string, method: string, path: string) =>
  call(`${base}${path}`, method, undefined, { authorization: `Bearer ${TOKEN}` });

/** Submit a job through the SG API; resolves with its uuid. */
export async function processJob(api: string, job: Job): Promise<string> {
  const r = await call(`${api}/process`, 'POST', job);
  if (r.status !== 200) throw new Error(`process answered ${r.status}: ${r.text}`);
  return r.json.uuid as string;
}

/** The SG status of a task. */
export const status = async (api: string, uuid: string) => (await call(`${api}/status?uuid=${uuid}`)).json;

/** Wait until the SG status is `want` (or `pred` holds); resolves with the last answer. */
export async function waitStatus(api: string, uuid: string, want: string | ((s: any) => boolean), ms = 20000): Promise<any> {
  let last: any;
  await until(
    async () => {
      last = await status(api, uuid);
      return typeof want === 'string' ? last.status === want : want(last);
    },
    ms,
    20,
  );
  return last;
}

export { until };
