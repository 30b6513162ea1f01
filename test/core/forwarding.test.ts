import t from 'tap';
import { request, startBackend, startGateway } from '../helpers/servers';

t.test('forwards to the upstream with X-Forwarded-* and without hop-by-hop headers', async (t) => {
  const be = await startBackend(t);
  const { url } = await startGateway(t, {
    upstreams: { be: { targets: [be.url] } },
    routes: [{ match: { path: '/' }, upstream: be.url ? 'be' : undefined }],
  });
  const res = await request(`${url}/a/b?x=1`, {
    headers: { 'x-forwarded-for': '6.6.6.6', 'keep-alive': 'timeout=5', 'x-custom': 'yes', connection: 'x-custom, close', te: 'trailers' },
  });
  t.equal(res.status, 200);
  const seen = JSON.parse(res.body);
  t.equal(seen.url, '/a/b?x=1');
  t.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'an untrusted peer cannot inject X-Forwarded-For');
  t.equal(seen.headers['x-forwarded-proto'], 'http');
  t.match(seen.headers['x-forwarded-host'], /^127\.0\.0\.1:\d+$/);
  t.notOk(seen.headers['keep-alive'], 'keep-alive stripped');
  t.notOk(seen.headers['x-custom'], 'headers named in Connection stripped');
  t.notOk(seen.headers.te, 'te stripped');
});

t.test('response hop-by-hop headers are stripped; end-to-end ones kept', async (t) => {
  const be = await startBackend(t, (_req, res) => {
    res.writeHead(200, {
      'keep-alive': 'timeout=99',
      connection: 'x-hop',
      'x-hop': 'secret',
      'x-end': 'kept',
      trailer: 'x-t',
      'proxy-authenticate': 'Basic',
    });
    res.end('ok');
  });
  const { url } = await startGateway(t, { upstreams: { be: { targets: [be.url] } }, routes: [{ match: { path: '/' }, upstream: 'be' }] });
  const res = await request(`${url}/`);
  t.equal(res.headers['x-end'], 'kept');
  for (const h of ['x-hop', 'trailer', 'proxy-authenticate']) t.notOk(res.headers[h], `${h} stripped`);
  t.not(res.headers['keep-alive'], 'timeout=99', "the upstream's keep-alive does not reach the client");
});

t.test('request and response bodies stream through unchanged', async (t) => {
  const { createHash, randomBytes } = await import('node:crypto');
  const http = await import('node:http');
  const be = await startBackend(t, (req, res) => {
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      size += c.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'x-upload-sha256': hash.digest('hex'), 'x-upload-size': String(size) });
      // Answer with a chunked body of known content.
      for (let i = 0; i < 64; i++) res.write(Buffer.alloc(64 * 1024, i));
      res.end();
    });
  });
  const { url } = await startGateway(t, { upstreams: { be: { targets: [be.url] } }, routes: [{ match: { path: '/' }, upstream: 'be' }] });
  const chunk = randomBytes(256 * 1024);
  const sent = createHash('sha256');
  const result = await new Promise<{ headers: Record<string, unknown>; sha: string; size: number }>((resolve, reject) => {
    const req = http.request(`${url}/upload`, { method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      const got = createHash('sha256');
      let size = 0;
      res.on('data', (c: Buffer) => {
        got.update(c);
        size += c.length;
      });
      res.on('end', () => resolve({ headers: res.headers, sha: got.digest('hex'), size }));
    });
    req.on('error', reject);
    let i = 0;
    const pump = (): void => {
      while (i < 40) {
        sent.update(chunk);
        i++;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  t.equal(result.headers['x-upload-size'], String(40 * chunk.length), '10 MiB upload arrives whole');
  t.equal(result.headers['x-upload-sha256'], sent.digest('hex'), 'upload bytes unchanged');
  const expected = createHash('sha256');
  for (let i = 0; i < 64; i++) expected.update(Buffer.alloc(64 * 1024, i));
  t.equal(result.size, 64 * 64 * 1024, '4 MiB download arrives whole');
  t.equal(result.sha, expected.digest('hex'), 'download bytes unchanged');
});
