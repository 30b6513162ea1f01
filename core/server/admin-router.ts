import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { answerError, GatehouseError } from '../errors';
import { parseFormBody, parseJsonBody, readRequestBody, DEFAULT_BODY_LIMIT, type ReadBodyOptions } from '../pipeline/body';

/** Methods an admin endpoint can serve. */
export type AdminMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/** One admin request, as an endpoint sees it. */
export interface AdminRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** Path without the query string (for plugin endpoints: the whole path, `/plugins/<instance>/…`). */
  readonly path: string;
  /** Values of the route's `:name` segments. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Answer with JSON (pretty-printed: people read the admin API). */
  json(status: number, value: unknown, headers?: OutgoingHttpHeaders): void;
  /** Answer with a body as it is. */
  send(status: number, body: string | Buffer, headers?: OutgoingHttpHeaders): void;
  readBody(options?: ReadBodyOptions): Promise<Buffer>;
  readJson<T = unknown>(options?: ReadBodyOptions): Promise<T>;
  readForm(options?: ReadBodyOptions): Promise<URLSearchParams>;
}

/** An admin endpoint: `path` segments starting with `:` match one segment each; a trailing `*` matches the rest. */
export interface AdminRoute {
  readonly method: AdminMethod;
  readonly path: string;
  /** Served without the bearer token (only health and readiness are). Default: false. */
  readonly open?: boolean;
  handle(a: AdminRequest): unknown | Promise<unknown>;
}

/** A route compiled for matching, once. */
interface Compiled {
  readonly route: AdminRoute;
  readonly segments: readonly string[];
  readonly rest: boolean;
}

function compile(route: AdminRoute): Compiled {
  const parts = route.path.split('/').slice(1);
  const rest = parts[parts.length - 1] === '*';
  return { route, segments: rest ? parts.slice(0, -1) : parts, rest };
}

/** A segment as decoded text (`webhook-ingest%231` is `webhook-ingest#1`), or as it is when malformed. */
function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function matchPath(c: Compiled, parts: readonly string[]): Record<string, string> | undefined {
  if (c.rest ? parts.length < c.segments.length : parts.length !== c.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < c.segments.length; i++) {
    const s = c.segments[i];
    if (s.startsWith(':')) {
      if (parts[i] === '') return undefined;
      try {
        params[s.slice(1)] = decodeURIComponent(parts[i]);
      } catch {
        return undefined;
      }
    } else if (s !== parts[i] && s !== safeDecode(parts[i])) return undefined;
  }
  if (c.rest) params['*'] = parts.slice(c.segments.length).join('/');
  return params;
}

/** Write a catalogued error as the JSON answer, or cut the connection if an answer already started. */
export function writeAdminError(res: ServerResponse, err: GatehouseError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  answerError(res, err, { 'cache-control': 'no-store' });
}

/** The request object handed to an endpoint. */
function adminRequest(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  search: string,
  params: Record<string, string>,
): AdminRequest {
  let body: Promise<Buffer> | undefined;
  const readBody = (o: ReadBodyOptions = {}) => (body ??= readRequestBody(req, res, o.limit ?? DEFAULT_BODY_LIMIT));
  const send = (status: number, data: string | Buffer, headers: OutgoingHttpHeaders = {}) => {
    res.writeHead(status, { 'content-length': Buffer.byteLength(data), 'cache-control': 'no-store', ...headers });
    res.end(data);
  };
  return {
    req,
    res,
    method: req.method ?? 'GET',
    path,
    params,
    query: new URLSearchParams(search),
    json: (status, value, headers) =>
      send(status, JSON.stringify(value, null, 2), { 'content-type': 'application/json; charset=utf-8', ...headers }),
    send,
    readBody,
    readJson: async <T>(o?: ReadBodyOptions) => parseJsonBody(await readBody(o), req.headers['content-type']) as T,
    readForm: async (o?: ReadBodyOptions) => parseFormBody(await readBody(o), req.headers['content-type']),
  };
}

/**
 * The admin API as a route table: core's endpoints and each plugin's, matched by method and
 * path, behind the bearer token unless a route is `open`. 404 for an unknown path, 405 with
 * `Allow` for a known path and another method; a failing endpoint is answered by its error.
 */
export class AdminRouter {
  private readonly fixed: Compiled[];

  /**
   * @param routes core's endpoints.
   * @param authorized whether a request carries the admin token (it may throw to refuse it otherwise: 429).
   * @param dynamic endpoints that change at run time (those of the current config generation's plugins).
   * @param onError told of every failure that is not a GatehouseError below 500, for the log.
   */
  constructor(
    routes: readonly AdminRoute[],
    private readonly authorized: (req: IncomingMessage, res: ServerResponse) => boolean,
    private readonly dynamic: () => readonly AdminRoute[] = () => [],
    private readonly onError: (err: unknown, path: string) => void = () => undefined,
  ) {
    this.fixed = routes.map(compile);
  }

  /**
   * Call an endpoint in process, as an authenticated caller (the dashboard, which checked its
   * session): the same handler an HTTP request reaches, with its answer captured instead of
   * written. `req`/`res` are the caller's, for handlers that read the request or watch it close.
   * @throws GatehouseError what the endpoint throws; GH_ERR_NOT_FOUND for no such endpoint.
   */
  async invoke(
    req: IncomingMessage,
    res: ServerResponse,
    method: AdminMethod,
    path: string,
    search = '',
  ): Promise<{ status: number; body: unknown }> {
    const parts = path.split('/').slice(1);
    const candidates = [...this.fixed, ...this.dynamic().map(compile)];
    const hit = candidates.map((c) => ({ c, params: matchPath(c, parts) })).find((m) => m.params && m.c.route.method === method);
    if (!hit) throw new GatehouseError('GH_ERR_NOT_FOUND', `No admin endpoint ${method} ${path}`);
    let answer: { status: number; body: unknown } | undefined;
    const a = adminRequest(req, res, path, search, hit.params!);
    const captured: AdminRequest = {
      ...a,
      json: (status, value) => void (answer = { status, body: value }),
      send: (status, body) => void (answer = { status, body: body.toString() }),
    };
    await hit.c.route.handle(captured);
    if (!answer) throw new GatehouseError('GH_ERR_INTERNAL', `Admin endpoint ${method} ${hit.c.route.path} did not answer`);
    return answer;
  }

  /** Whether an endpoint exists for this method and path (the dashboard asks which plugins have queues or tasks). */
  has(method: AdminMethod, path: string): boolean {
    const parts = path.split('/').slice(1);
    return [...this.fixed, ...this.dynamic().map(compile)].some((c) => c.route.method === method && matchPath(c, parts) !== undefined);
  }

  /** Serve one admin request. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const parts = path.split('/').slice(1);
    const candidates = [...this.fixed, ...this.dynamic().map(compile)];
    const matching = candidates.map((c) => ({ c, params: matchPath(c, parts) })).filter((m) => m.params !== undefined);
    try {
      if (matching.length === 0) throw new GatehouseError('GH_ERR_NOT_FOUND', `No admin endpoint ${path}`);
      // Nothing about which endpoints exist is told without the token, beyond the open ones.
      if (!matching.some((m) => m.c.route.open) && !this.authorized(req, res)) throw new GatehouseError('GH_ERR_UNAUTHORIZED');
      const hit = matching.find((m) => m.c.route.method === req.method || (req.method === 'HEAD' && m.c.route.method === 'GET'));
      if (!hit) {
        const allow = [...new Set(matching.map((m) => m.c.route.method))].join(', ');
        res.setHeader('allow', allow);
        throw new GatehouseError('GH_ERR_METHOD_NOT_ALLOWED', `${req.method} ${path} is not allowed (allowed: ${allow})`);
      }
      if (!hit.c.route.open && !this.authorized(req, res)) throw new GatehouseError('GH_ERR_UNAUTHORIZED');
      await hit.c.route.handle(adminRequest(req, res, path, q < 0 ? '' : url.slice(q), hit.params!));
      if (!res.headersSent)
        throw new GatehouseError('GH_ERR_INTERNAL', `Admin endpoint ${hit.c.route.method} ${hit.c.route.path} did not answer`);
    } catch (err) {
      const e = err instanceof GatehouseError ? err : new GatehouseError('GH_ERR_INTERNAL', (err as Error)?.message, { cause: err });
      if (e.status >= 500) this.onError(err, path);
      writeAdminError(res, e);
    }
  }
}
