import { createHash } from 'node:crypto';
import http from 'node:http';
import { startBackend, type Teardown } from './servers';

export { deadPort } from './servers';

/** A metadata file record as Pacifica's metadata service returns it. */
export interface FileRecordJson {
  _id: unknown;
  name?: unknown;
  size?: unknown;
  [k: string]: unknown;
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
export const hashOf = (type: string, b: Buffer | string): string => createHash(type).update(b).digest('hex');

/**
 * A real metadata service on 127.0.0.1:0 answering `GET <base>/files?hashsum=&hashtype=`.
 * The base path picks a behaviour, so one server covers every case:
 *   /files, /ok/files   the records in `records` (key `hashtype:hashsum`), else []
 *   /delay-<ms>/files   the same after <ms> milliseconds
 *   /garbage/files      200 with a body that is not JSON
 *   /object/files       200 with a JSON object instead of a list
 *   /noid/files         200 with a record without _id
 *   /error/files        500
 *   /slowerror/files    500 after 200 ms
 *   /huge/files         200 with a 2 MiB body
 * `calls` records every request URL, in order. Closed when `t` ends.
 */
export async function startMetadata(t: Teardown, records: Record<string, FileRecordJson[]> = {}) {
  const calls: string[] = [];
  const backend = await startBackend(t, (req, res) => {
    calls.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^(?:\/([^/]+))?\/files$/.exec(url.pathname);
    const send = (status: number, body: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    if (!m) return send(404, '{"message":"not found"}');
    const behaviour = m[1] ?? 'ok';
    const found = () => send(200, JSON.stringify(records[`${url.searchParams.get('hashtype')}:${url.searchParams.get('hashsum')}`] ?? []));
    if (behaviour === 'ok') return found();
    const delay = /^delay-(\d+)$/.exec(behaviour);
    if (delay) {
      const timer = setTimeout(found, Number(delay[1]));
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (behaviour === 'garbage') return send(200, '<html>oops</html>');
    if (behaviour === 'object') return send(200, '{"_id": 1}');
    if (behaviour === 'noid') return send(200, '[{"name": "x.bin"}]');
    if (behaviour === 'error') return send(500, '{"message":"db down"}');
    if (behaviour === 'slowerror') {
      const timer = setTimeout(() => send(500, '{"message":"db down"}'), 200);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (behaviour === 'huge') return send(200, `[${'0,'.repeat(1024 * 1024)}0]`);
    return send(404, '{}');
  });
  return {
    ...backend,
    calls,
    records,
    /** Calls that asked for one hash. */
    callsFor: (hashsum: string) => calls.filter((c) => c.includes(`hashsum=${hashsum}`)).length,
  };
}

/**
 * A real archive on 127.0.0.1:0 serving `GET|HEAD /<id>` from memory with single
 * byte ranges (206, 416) like Pacifica's archive interface. Special ids:
 *   fail500   500 with a text body
 *   die       200 with a Content-Length, half the body, then the connection is cut
 *   text      a file served with its own Content-Type: text/plain
 *   notype    a file served without Content-Type
 * Unknown ids are 404. `requests` records method, url and Range of every request. Closed when `t` ends.
 */
export async function startArchive(t: Teardown, files: Record<string, Buffer> = {}) {
  const requests: { method: string; url: string; range?: string; headers: http.IncomingHttpHeaders }[] = [];
  const backend = await startBackend(t, (req, res) => {
    const id = decodeURIComponent((req.url ?? '/').slice(1).split('?')[0]);
    requests.push({ method: req.method ?? '', url: req.url ?? '', range: req.headers.range, headers: req.headers });
    if (id === 'fail500') return res.writeHead(500, { 'content-type': 'text/plain' }).end('archive exploded');
    const data = files[id];
    if (!data) return res.writeHead(404, { 'content-type': 'text/plain' }).end('no such file');
    if (id === 'die') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
      res.write(data.subarray(0, data.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    const type = id === 'text' ? 'text/plain; charset=utf-8' : id === 'notype' ? undefined : 'application/octet-stream';
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = data.length - 1;
    let status = 200;
    if (range && (range[1] || range[2])) {
      if (range[1]) {
        start = Number(range[1]);
        if (range[2]) end = Math.min(Number(range[2]), data.length - 1);
      } else start = Math.max(0, data.length - Number(range[2]));
      if (start >= data.length || start > end) {
        return res.writeHead(416, { 'content-range': `bytes */${data.length}`, 'content-type': 'text/plain' }).end('range not satisfiable');
      }
      status = 206;
    }
    const body = data.subarray(start, end + 1);
    res.writeHead(status, {
      ...(type ? { 'content-type': type } : {}),
      'content-length': body.length,
      'accept-ranges': 'bytes',
      etag: '"v1"',
      ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${data.length}` } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return { ...backend, requests, files };
}

/** GET a URL and collect the body as a Buffer; `error` is set when the connection was cut mid-body. */
export function fetchBuffer(
  url: string,
  opts: http.RequestOptions = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; error?: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      let error: string | undefined;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => {
        error = e.message;
      });
      res.on('close', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), error, complete: res.complete }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}
