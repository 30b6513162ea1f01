import t from 'tap';
import { expectError } from '../../helpers/errors';
import { deadPort, fetchBuffer, hashOf, startArchive, startMetadata } from '../../helpers/pacifica';
import { request, startGateway } from '../../helpers/servers';

const small = Buffer.from('cached file\n');
const h = (tag: string) => hashOf('sha1', tag);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('hash-rewrite: bad requests, missing files and a failing metadata service', async (t) => {
  const archive = await startArchive(t, { 1: small });
  const meta = await startMetadata(t, { [`sha1:${h('ok')}`]: [{ _id: 1, name: 'ok.txt', size: small.length }] });
  const dead = await deadPort();
  const route = (prefix: string, metadata: string, extra: Record<string, unknown> = {}) => ({
    match: { path: `/${prefix}/` },
    plugins: [{ 'hash-rewrite': { metadata, archive: 'archive', path: `/${prefix}/:hashtype/:hashsum`, timeout: 300, ...extra } }],
  });
  const { url } = await startGateway(t, {
    upstreams: { archive: { targets: [archive.url] } },
    routes: [
      route('files', meta.url),
      route('down', `http://127.0.0.1:${dead}`),
      route('slow', `${meta.url}/delay-2000`),
      route('garbage', `${meta.url}/garbage`),
      route('object', `${meta.url}/object`),
      route('noid', `${meta.url}/noid`),
      route('error', `${meta.url}/error`),
      route('huge', `${meta.url}/huge`),
      route('wrongpath', `${meta.url}/nothing/here`),
    ],
  });

  t.test('400 for a hash type or sum that cannot be right, before any lookup', async (t) => {
    const calls = meta.calls.length;
    const cases = [
      {
        desc: 'unknown hash type',
        path: `/files/crc32/${'a'.repeat(8)}`,
        message: /Unknown hash type "crc32"; expected one of: md5, sha1, sha256, sha512/,
      },
      { desc: 'a known type that is not configured', path: `/files/sha384/${'a'.repeat(96)}`, message: /Unknown hash type "sha384"/ },
      { desc: 'sum too short', path: `/files/sha1/${'a'.repeat(39)}`, message: /A sha1 sum is 40 hexadecimal digits/ },
      { desc: 'sum too long', path: `/files/md5/${'a'.repeat(33)}`, message: /A md5 sum is 32 hexadecimal digits/ },
      { desc: 'not hex', path: `/files/sha256/${'g'.repeat(64)}`, message: /A sha256 sum is 64 hexadecimal digits/ },
      { desc: 'percent-encoded junk', path: `/files/sha1/${'%41'.repeat(13)}a`, message: /A sha1 sum is 40 hexadecimal digits/ },
    ];
    for (const c of cases) {
      await t.test(c.desc, async (t) => {
        const res = await request(`${url}${c.path}`);
        t.equal(res.status, 400, '400');
        t.match(expectError(t, res, 'GH_ERR_BAD_REQUEST').error.message, c.message, 'message');
      });
    }
    t.equal(meta.calls.length, calls, 'the metadata service was never asked');
  });

  t.test('404, 405 and the path pattern', async (t) => {
    const cases = [
      {
        desc: 'a hash the metadata service does not know',
        path: `/files/sha1/${h('nope')}`,
        status: 404,
        code: 'GH_ERR_HASH_REWRITE_FILE_NOT_FOUND',
        message: 'File does not exist.',
      },
      { desc: 'a path that does not fit the pattern', path: '/files/sha1', status: 404, code: 'GH_ERR_NOT_FOUND' },
      { desc: 'an extra segment does not fit either', path: `/files/sha1/${h('ok')}/more`, status: 404, code: 'GH_ERR_NOT_FOUND' },
      {
        desc: 'POST is not allowed',
        path: `/files/sha1/${h('ok')}`,
        method: 'POST',
        status: 405,
        code: 'GH_ERR_METHOD_NOT_ALLOWED',
        allow: 'GET, HEAD',
      },
      { desc: 'HEAD of a missing file: 404 without a body', path: `/files/sha1/${h('nope')}`, method: 'HEAD', status: 404 },
    ];
    for (const c of cases) {
      await t.test(c.desc, async (t) => {
        const res = await request(`${url}${c.path}`, { method: c.method ?? 'GET' });
        t.equal(res.status, c.status, 'status');
        const body = c.code ? expectError(t, res, c.code, c.status) : undefined;
        if (c.message) t.equal(body?.error.message, c.message, 'message');
        if (c.allow) t.equal(res.headers.allow, c.allow, 'Allow');
        if (c.method === 'HEAD') t.equal(res.body, '', 'no body');
      });
    }
  });

  t.test('metadata service down, slow or answering garbage: 502/504 JSON, never a crash', async (t) => {
    const sum = h('ok');
    const cases = [
      { desc: 'down (connection refused)', prefix: 'down', status: 502, code: 'GH_ERR_HASH_REWRITE_METADATA_UNAVAILABLE' },
      { desc: 'slower than the timeout', prefix: 'slow', status: 504, code: 'GH_ERR_HASH_REWRITE_METADATA_TIMEOUT', maxMs: 1500 },
      { desc: 'not JSON', prefix: 'garbage', status: 502, code: 'GH_ERR_HASH_REWRITE_METADATA_INVALID' },
      { desc: 'a JSON object instead of a list', prefix: 'object', status: 502, code: 'GH_ERR_HASH_REWRITE_METADATA_INVALID' },
      { desc: 'a record without _id', prefix: 'noid', status: 502, code: 'GH_ERR_HASH_REWRITE_METADATA_INVALID' },
      { desc: 'a 500', prefix: 'error', status: 502, code: 'GH_ERR_HASH_REWRITE_METADATA_UNAVAILABLE' },
      { desc: 'an endless body', prefix: 'huge', status: 502, code: 'GH_ERR_HASH_REWRITE_METADATA_INVALID' },
      {
        desc: 'a 404 (wrong base URL) is not "file does not exist"',
        prefix: 'wrongpath',
        status: 502,
        code: 'GH_ERR_HASH_REWRITE_METADATA_UNAVAILABLE',
      },
    ];
    for (const c of cases) {
      await t.test(c.desc, async (t) => {
        const started = Date.now();
        const res = await request(`${url}/${c.prefix}/sha1/${sum}`);
        t.equal(res.status, c.status, 'status');
        expectError(t, res, c.code, c.status);
        if (c.maxMs) t.ok(Date.now() - started < c.maxMs, 'answered at the timeout, not when the service answers');
      });
    }
    const res = await request(`${url}/files/sha1/${sum}`);
    t.equal(res.status, 200, 'the gateway still serves files afterwards');
    t.equal(res.body, small.toString());
  });
});

t.test('hash-rewrite: cache and single flight', async (t) => {
  const archive = await startArchive(t, { 1: small });
  const known = ['hit', 'ttl', 'burst', 'nocache'].map(h);
  const meta = await startMetadata(
    t,
    Object.fromEntries(known.map((sum) => [`sha1:${sum}`, [{ _id: 1, name: 'c.txt', size: small.length }]])),
  );
  const plugin = (prefix: string, metadata: string, cache: Record<string, number>) => ({
    match: { path: `/${prefix}/` },
    plugins: [{ 'hash-rewrite': { metadata, archive: 'archive', path: `/${prefix}/:hashtype/:hashsum`, timeout: 2000, cache } }],
  });
  const { gw, url } = await startGateway(t, {
    upstreams: { archive: { targets: [archive.url] } },
    routes: [
      plugin('files', meta.url, { ttl: 60000, negativeTtl: 300 }),
      plugin('short', meta.url, { ttl: 300, negativeTtl: 0 }),
      plugin('burst', `${meta.url}/delay-200`, {}),
      plugin('errors', `${meta.url}/slowerror`, {}),
      plugin('nocache', meta.url, { max: 0 }),
    ],
  });
  const metric = async (name: string) =>
    (await gw.metrics.registry.getSingleMetric(`gatehouse_hash_rewrite_${name}`)!.get()).values.reduce((n, v) => n + v.value, 0);

  t.test('found: the second request makes no metadata call', async (t) => {
    const sum = h('hit');
    const hits = await metric('cache_hits_total');
    for (let i = 0; i < 3; i++) t.equal((await request(`${url}/files/sha1/${sum}`)).status, 200, `request ${i + 1} served`);
    t.equal(meta.callsFor(sum), 1, 'one metadata call for three requests');
    t.equal((await metric('cache_hits_total')) - hits, 2, 'two cache hits counted');
    t.equal(archive.requests.length, 3, 'the file itself is streamed every time');
  });

  t.test('not found is cached for negativeTtl only', async (t) => {
    const sum = h('absent');
    t.equal((await request(`${url}/files/sha1/${sum}`)).status, 404, 'first: 404');
    t.equal((await request(`${url}/files/sha1/${sum}`)).status, 404, 'second: 404');
    t.equal(meta.callsFor(sum), 1, 'one call while the negative entry lives');
    await sleep(450);
    t.equal((await request(`${url}/files/sha1/${sum}`)).status, 404, 'after negativeTtl: 404');
    t.equal(meta.callsFor(sum), 2, 'asked again after negativeTtl');
  });

  t.test('found entries expire after ttl; negativeTtl 0 caches no 404', async (t) => {
    const sum = h('ttl');
    await request(`${url}/short/sha1/${sum}`);
    await request(`${url}/short/sha1/${sum}`);
    t.equal(meta.callsFor(sum), 1, 'cached within ttl');
    await sleep(450);
    await request(`${url}/short/sha1/${sum}`);
    t.equal(meta.callsFor(sum), 2, 'asked again after ttl');
    const absent = h('absent-short');
    await request(`${url}/short/sha1/${absent}`);
    await request(`${url}/short/sha1/${absent}`);
    t.equal(meta.callsFor(absent), 2, 'every 404 asks again');
  });

  t.test('N concurrent requests for one uncached hash make exactly one metadata call', async (t) => {
    const cases = [
      { desc: 'a file that exists', sum: h('burst'), status: 200 },
      { desc: 'a file that does not exist', sum: h('burst-absent'), status: 404 },
    ];
    for (const c of cases) {
      await t.test(c.desc, async (t) => {
        const coalesced = await metric('lookups_coalesced_total');
        const results = await Promise.all(Array.from({ length: 25 }, () => fetchBuffer(`${url}/burst/sha1/${c.sum}`)));
        t.same([...new Set(results.map((r) => r.status))], [c.status], `all 25 answered ${c.status}`);
        if (c.status === 200)
          t.ok(
            results.every((r) => r.body.equals(small)),
            'all got the file',
          );
        t.equal(meta.callsFor(c.sum), 1, 'one metadata call');
        t.equal((await metric('lookups_coalesced_total')) - coalesced, 24, '24 joined the call in flight');
      });
    }
  });

  t.test('failures are shared by the requests waiting on them, and never cached', async (t) => {
    const sum = h('errors');
    const results = await Promise.all(Array.from({ length: 10 }, () => request(`${url}/errors/sha1/${sum}`)));
    t.same([...new Set(results.map((r) => r.status))], [502], 'all 502');
    t.equal(meta.callsFor(sum), 1, 'one metadata call for ten concurrent requests');
    t.equal((await request(`${url}/errors/sha1/${sum}`)).status, 502, 'the next request fails too');
    t.equal(meta.callsFor(sum), 2, 'and asks again: the failure was not cached');
  });

  t.test('cache.max 0 disables the cache', async (t) => {
    const sum = h('nocache');
    await request(`${url}/nocache/sha1/${sum}`);
    await request(`${url}/nocache/sha1/${sum}`);
    t.equal(meta.callsFor(sum), 2, 'two requests, two calls');
  });

  t.test('metrics', async (t) => {
    const text = await gw.metrics.registry.metrics();
    // One series per plugin instance (the routes above declare several).
    for (const name of [
      'lookups_total{result="found",instance="hash-rewrite#\\d+"}',
      'lookups_total{result="not_found",instance="hash-rewrite#\\d+"}',
      'lookups_total{result="error",instance="hash-rewrite#\\d+"}',
      'cache_hits_total',
      'cache_misses_total',
      'metadata_duration_seconds_bucket',
      'streamed_bytes_total',
    ]) {
      t.match(text, new RegExp(`gatehouse_hash_rewrite_${name.replace(/[{}]/g, '\\$&')}`), name);
    }
  });
});
