import http from 'node:http';
import https from 'node:https';
import { LRUCache } from 'lru-cache';
import { GatehouseError, type PluginMetrics } from '../../core/plugin-api';
import { errors } from './errors';

/** The parts of a metadata file record that the plugin uses. */
export interface FileRecord {
  /** `_id`: the archive's name for the file. */
  readonly id: string;
  /** `name`: the file name for Content-Disposition ('' when the record has none). */
  readonly name: string;
  /** `size` in bytes, when the record gives one. */
  readonly size?: number;
}

/** Largest metadata answer read; a longer one is treated as garbage. */
export const MAX_METADATA_BYTES = 1024 * 1024;

export interface LookupOptions {
  metadata: string;
  timeout: number;
  cache: { max: number; ttl: number; negativeTtl: number };
}

type Outcome = 'found' | 'not_found' | 'error' | 'timeout';
interface Entry {
  readonly record: FileRecord | null;
}

/**
 * Metadata lookups: `GET {metadata}/files?hashsum=…&hashtype=…`, cached in an LRU
 * (found: `ttl`, not found: `negativeTtl`), with one call in flight per hash however
 * many requests want it. Failures are never cached.
 */
export class FileLookup {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly cache?: LRUCache<string, Entry>;
  private readonly inflight = new Map<string, Promise<FileRecord | null>>();
  private readonly metrics;

  constructor(
    private readonly options: LookupOptions,
    metrics: PluginMetrics,
  ) {
    this.base = new URL(options.metadata);
    this.base.pathname = `${this.base.pathname.replace(/\/+$/, '')}/files`;
    this.base.search = '';
    this.base.hash = '';
    const agentOptions = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30000 };
    this.agent = this.base.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    const { max, ttl } = options.cache;
    if (max > 0) this.cache = new LRUCache<string, Entry>({ max, ttl });
    this.metrics = {
      hits: metrics.counter({ name: 'cache_hits_total', help: 'Lookups answered from the cache (found or not found)' }),
      misses: metrics.counter({ name: 'cache_misses_total', help: 'Lookups not in the cache' }),
      coalesced: metrics.counter({ name: 'lookups_coalesced_total', help: 'Cache misses that joined a metadata call already in flight' }),
      latency: metrics.histogram({
        name: 'metadata_duration_seconds',
        help: 'Metadata service calls by outcome',
        labelNames: ['outcome'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      }),
    };
  }

  /** The first record for a hash, or null when the metadata service knows none. Throws GatehouseError on failure. */
  get(hashtype: string, hashsum: string): Promise<FileRecord | null> {
    const key = `${hashtype}:${hashsum}`;
    const hit = this.cache?.get(key);
    if (hit) {
      this.metrics.hits.inc();
      return Promise.resolve(hit.record);
    }
    this.metrics.misses.inc();
    const pending = this.inflight.get(key);
    if (pending) {
      this.metrics.coalesced.inc();
      return pending;
    }
    const call = this.fetch(hashtype, hashsum)
      .then((record) => {
        const { negativeTtl } = this.options.cache;
        if (record) this.cache?.set(key, { record });
        else if (negativeTtl > 0) this.cache?.set(key, { record }, { ttl: negativeTtl });
        return record;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, call);
    return call;
  }

  /** Drop every cached lookup. */
  clear(): void {
    this.cache?.clear();
  }

  close(): void {
    this.agent.destroy();
  }

  private async fetch(hashtype: string, hashsum: string): Promise<FileRecord | null> {
    const url = new URL(this.base);
    url.searchParams.set('hashsum', hashsum);
    url.searchParams.set('hashtype', hashtype);
    const started = process.hrtime.bigint();
    let outcome: Outcome = 'error';
    try {
      const { status, body } = await this.request(url);
      if (status !== 200) throw errors.create('METADATA_UNAVAILABLE', `Metadata service answered ${status} for ${hashtype}:${hashsum}`);
      const record = parseRecords(body);
      outcome = record ? 'found' : 'not_found';
      return record;
    } catch (err) {
      if (err instanceof GatehouseError && err.code === errors.code('METADATA_TIMEOUT')) outcome = 'timeout';
      throw err;
    } finally {
      this.metrics.latency.observe({ outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** One GET with a deadline over the whole exchange and a cap on the body size. */
  private request(url: URL): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let req: http.ClientRequest | undefined;
      const timer = setTimeout(
        () => finish(errors.create('METADATA_TIMEOUT', `Metadata service did not answer within ${this.options.timeout} ms`)),
        this.options.timeout,
      );
      const finish = (err: GatehouseError | undefined, value?: { status: number; body: Buffer }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          req?.destroy();
          reject(err);
        } else resolve(value!);
      };
      const client = url.protocol === 'https:' ? https : http;
      req = client.get(url, { agent: this.agent, headers: { accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length > MAX_METADATA_BYTES)
            finish(errors.create('METADATA_INVALID', `Metadata answer larger than ${MAX_METADATA_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', (e) => finish(errors.create('METADATA_UNAVAILABLE', `Metadata answer cut short: ${e.message}`, { cause: e })));
        res.on('aborted', () => finish(errors.create('METADATA_UNAVAILABLE', 'Metadata answer cut short')));
      });
      req.on('error', (e: NodeJS.ErrnoException) =>
        finish(errors.create('METADATA_UNAVAILABLE', `Metadata service ${this.base.origin} failed: ${e.code ?? e.message}`, { cause: e })),
      );
    });
  }
}

/** The first record of a metadata answer; null for an empty list. Anything malformed is GH_ERR_HASH_REWRITE_METADATA_INVALID. */
export function parseRecords(body: Buffer): FileRecord | null {
  const invalid = (why: string) => errors.create('METADATA_INVALID', `Metadata service answer is invalid: ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  if (!Array.isArray(value)) throw invalid('not a JSON list');
  if (value.length === 0) return null;
  const first = value[0] as Record<string, unknown> | null;
  if (!first || typeof first !== 'object' || Array.isArray(first)) throw invalid('the first record is not an object');
  const { _id: id, name, size } = first;
  const validId = (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) || (typeof id === 'string' && id !== '');
  if (!validId) throw invalid('the first record has no usable _id');
  if (name !== undefined && name !== null && typeof name !== 'string') throw invalid("the first record's name is not a string");
  if (size !== undefined && size !== null && !(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) {
    throw invalid("the first record's size is not a byte count");
  }
  return { id: String(id), name: typeof name === 'string' ? name : '', ...(typeof size === 'number' ? { size } : {}) };
}
