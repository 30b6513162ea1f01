import type { ServiceInfo, ServiceView } from './info';

/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** The admin listener, e.g. `http://127.0.0.1:9901`. */
  readonly adminUrl: string;
  /** The admin token (`admin.token`). */
  readonly token: string;
  /** Tries after the first, on connection failures and 5xx answers (not on 4xx). Default 3. */
  readonly retries?: number;
  /** First pause between tries, doubling each time. Default 200 ms. */
  readonly backoffMs?: number;
  /** Each request's limit (a blocking watch adds its wait). Default 10000 ms. */
  readonly timeoutMs?: number;
}

/** A failed registry call: the gateway's error code and status, or `unreachable`. */
export class RegistryClientError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * A client of the registry API (the admin listener's `/registry/…`), typed and promise-based,
 * retrying with backoff as PhysarumSM's client did. `import { RegistryClient } from 'gatehouse'`.
 */
export class RegistryClient {
  private readonly base: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: RegistryClientOptions) {
    this.base = options.adminUrl.replace(/\/+$/, '');
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 200;
    this.timeoutMs = options.timeoutMs ?? 10000;
  }

  /** Add or overwrite an entry. */
  add(name: string, info: ServiceInfo): Promise<ServiceView> {
    return this.call('PUT', `/registry/services/${encodeURIComponent(name)}`, info) as Promise<ServiceView>;
  }

  /** One entry, or undefined when there is none of that name. */
  async get(name: string): Promise<ServiceView | undefined> {
    try {
      return (await this.call('GET', `/registry/services/${encodeURIComponent(name)}`)) as ServiceView;
    } catch (err) {
      if (err instanceof RegistryClientError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Every entry (all pages), optionally by name prefix or tag. */
  async list(filter: { prefix?: string; tag?: string } = {}): Promise<ServiceView[]> {
    const out: ServiceView[] = [];
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams({ limit: '1000' });
      if (filter.prefix) q.set('prefix', filter.prefix);
      if (filter.tag) q.set('tag', filter.tag);
      if (cursor) q.set('cursor', cursor);
      const page = (await this.call('GET', `/registry/services?${q}`)) as { services: ServiceView[]; cursor?: string };
      out.push(...page.services);
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  /** Remove an entry; false when there was none. */
  async delete(name: string): Promise<boolean> {
    try {
      await this.call('DELETE', `/registry/services/${encodeURIComponent(name)}`);
      return true;
    } catch (err) {
      if (err instanceof RegistryClientError && err.status === 404) return false;
      throw err;
    }
  }

  /** Renew an entry's lease. */
  heartbeat(name: string): Promise<ServiceView> {
    return this.call('PUT', `/registry/services/${encodeURIComponent(name)}/heartbeat`) as Promise<ServiceView>;
  }

  /**
   * The registry's entries now, then again after each change (Consul-style blocking reads: no
   * polling interval), until `signal` aborts.
   */
  async *watch(
    options: { index?: number; waitMs?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<{ index: number; services: ServiceView[] }> {
    let index = options.index ?? 0;
    const wait = options.waitMs ?? 60000;
    while (!options.signal?.aborted) {
      const q = new URLSearchParams({ index: String(index), wait: `${wait}ms`, limit: '1000' });
      const { body, headers } = await this.request(
        'GET',
        `/registry/services?${q}`,
        undefined,
        Math.ceil(wait + wait / 16) + this.timeoutMs,
        options.signal,
      );
      const next = Number(headers.get('x-gatehouse-index') ?? index);
      // The index can go back (a store that lost data): start over rather than wait for ever.
      const changed = next !== index || index === 0;
      index = next < index ? 0 : next;
      if (changed) yield { index, services: (body as { services: ServiceView[] }).services };
    }
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    return (await this.request(method, path, body, this.timeoutMs)).body;
  }

  private async request(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ body: unknown; headers: Headers }> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(this.base + path, {
          method,
          headers: { authorization: `Bearer ${this.options.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        if (signal?.aborted || attempt >= this.retries) {
          const why = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
          throw new RegistryClientError(`${method} ${this.base}${path}: unreachable (${why})`, 'unreachable');
        }
        await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** attempt));
        continue;
      }
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      if (res.ok) return { body: parsed, headers: res.headers };
      if (res.status >= 500 && attempt < this.retries) {
        await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** attempt));
        continue;
      }
      const e = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new RegistryClientError(e?.message ?? `${method} ${path}: HTTP ${res.status}`, e?.code ?? `HTTP_${res.status}`, res.status);
    }
  }
}
