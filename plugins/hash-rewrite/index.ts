import type { ClientRequest, IncomingMessage } from 'node:http';
import { GatehouseError, definePlugin, type Context } from '../../core/plugin-api';
import { contentDisposition } from './disposition';
import { FileLookup, type FileRecord } from './lookup';
import { checkHash, compilePattern } from './pattern';
import { errors } from './errors';
import { schema, type HashRewriteOptions } from './schema';
import { isUrl, validateOptions } from './validate';

/** Key of the per-request state of a file being streamed (stream mode). */
const STREAMING = 'hash-rewrite';

/** Per-request state of a file being streamed (stream mode). */
interface Streaming {
  readonly record: FileRecord;
  readonly disposition: string;
}

/** Archive answers passed to the client; anything else becomes a 502. */
const PASSED = new Set([200, 206, 304, 416]);

/**
 * `hash-rewrite`: the Pacifica proxy. Files are addressed by a hash the user knows;
 * the metadata service maps it to the archive's id, then the file is streamed from
 * the archive through core (mode: stream) or handed to nginx/accel-redirect (mode: x-accel).
 */
export default definePlugin<HashRewriteOptions>({
  name: 'hash-rewrite',
  schema,
  errors,
  validate: validateOptions,
  create(options, scope) {
    const { mode, archive } = options;
    const archiveIsUrl = archive !== undefined && isUrl(archive);
    const pattern = compilePattern(options.path);
    const accepted = new Set(options.hashTypes);
    const accelPrefix = options.accelPrefix.replace(/\/+$/, '');
    const lookup = new FileLookup(options, scope.metrics);
    const lookups = scope.metrics.counter({ name: 'lookups_total', help: 'File requests by result', labelNames: ['result'] });
    const counted = {
      found: lookups.labels('found'),
      notFound: lookups.labels('not_found'),
      badRequest: lookups.labels('bad_request'),
      error: lookups.labels('error'),
    };
    // Cached records are the same objects on every hit: their header value is built once.
    const dispositions = new WeakMap<FileRecord, string>();
    const dispositionOf = (record: FileRecord): string => {
      let value = dispositions.get(record);
      if (value === undefined) dispositions.set(record, (value = contentDisposition(record.name, record.id)));
      return value;
    };
    const streamed = scope.metrics.counter({ name: 'streamed_bytes_total', help: 'File bytes streamed from the archive to clients' });

    async function hashRewrite(ctx: Context, next: () => Promise<void>): Promise<void> {
      if (options.statusPath !== undefined && ctx.path === options.statusPath && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
        ctx.json(200, { message: 'Pacifica Proxy Up and Running' });
        return;
      }
      const m = pattern.match(ctx.path);
      if (!m) {
        if (options.fallthrough) return next();
        return void ctx.fail(new GatehouseError('GH_ERR_NOT_FOUND', `Not found; files are at ${options.path}`));
      }
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        return void ctx.fail(new GatehouseError('GH_ERR_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed; use GET or HEAD`), {
          allow: 'GET, HEAD',
        });
      }
      let hash;
      let record: FileRecord | null;
      try {
        hash = checkHash(m.hashtype, m.hashsum, accepted);
        record = await lookup.get(hash.hashtype, hash.hashsum);
      } catch (err) {
        if (!(err instanceof GatehouseError)) throw err;
        (err.status === 400 ? counted.badRequest : counted.error).inc();
        if (err.status >= 500) ctx.log.warn({ plugin: 'hash-rewrite', code: err.code, err: err.message }, 'file lookup failed');
        return void ctx.fail(err);
      }
      if (!record) {
        counted.notFound.inc();
        return void ctx.fail(errors.create('FILE_NOT_FOUND'));
      }
      counted.found.inc();
      // The client may have left while the metadata service was asked: do not start an archive transfer for nobody.
      if (ctx.res?.destroyed) return;
      const disposition = dispositionOf(record);
      const location = `/${encodeURIComponent(record.id)}`;
      if (mode === 'x-accel') {
        ctx.send(200, '', {
          'content-type': 'application/octet-stream',
          'content-disposition': disposition,
          'x-accel-redirect': `${accelPrefix}${location}`,
        });
        return;
      }
      ctx.state[STREAMING] = { record, disposition } satisfies Streaming;
      if (archiveIsUrl) ctx.target = archive;
      else ctx.upstream = archive;
      ctx.upstreamPath = location;
      await next();
    }

    /** Stream mode: check the archive's answer and write it with the file's headers, counting bytes. */
    function interceptResponse(ctx: Context, proxyRes: IncomingMessage): boolean {
      const s = ctx.state[STREAMING] as Streaming | undefined;
      if (!s) return false;
      const status = proxyRes.statusCode ?? 0;
      const fail = (why: string): never => {
        ctx.log.warn({ plugin: 'hash-rewrite', id: s.record.id, archiveStatus: status }, why);
        throw errors.create('ARCHIVE_FAILED', `The archive could not deliver file ${s.record.id}: ${why}`);
      };
      if (!PASSED.has(status)) fail(`it answered ${status}`);
      const h = proxyRes.headers;
      const { size } = s.record;
      if (status === 200 && size !== undefined) {
        const sent = h['content-length'];
        if (ctx.method !== 'HEAD' && sent !== undefined && Number(sent) !== size) fail(`it sent ${sent} bytes, the metadata says ${size}`);
        h['content-length'] = String(size);
        delete h['transfer-encoding'];
      }
      if (status === 200 || status === 206) {
        h['content-type'] = 'application/octet-stream';
        h['content-disposition'] = s.disposition;
      }
      h['accept-ranges'] = 'bytes';
      const res = ctx.res!;
      for (const [k, v] of Object.entries(h)) if (v !== undefined) res.setHeader(k, v);
      res.writeHead(status, proxyRes.statusMessage);
      let bytes = 0;
      proxyRes.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      proxyRes.once('close', () => streamed.inc(bytes));
      proxyRes.on('error', () => undefined); // core cuts the client connection when the archive dies mid-body
      proxyRes.pipe(res);
      return true;
    }

    return {
      handle: hashRewrite,
      ...(mode === 'stream'
        ? {
            // The archive must send the bytes the metadata describes: no content coding.
            onProxyRequest(ctx: Context, proxyReq: ClientRequest) {
              if (ctx.state[STREAMING]) proxyReq.removeHeader('accept-encoding');
            },
            interceptResponse,
          }
        : {}),
      stop() {
        lookup.close();
      },
    };
  },
});
