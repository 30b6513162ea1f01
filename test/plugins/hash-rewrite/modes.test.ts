import t from 'tap';
import { createGateway } from '../../../app';
import { expectError } from '../../helpers/errors';
import { hashOf, startArchive, startMetadata } from '../../helpers/pacifica';
import { request, startBackend, startGateway, testLogger } from '../../helpers/servers';

const small = Buffer.from('x-accel file\n');
const h = (tag: string) => hashOf('sha1', tag);

t.test('hash-rewrite x-accel mode: an empty answer with X-Accel-Redirect for nginx', async (t) => {
  const archive = await startArchive(t, { 7: small });
  const meta = await startMetadata(t, {
    [`sha1:${h('a')}`]: [{ _id: 7, name: 'report.pdf', size: small.length }],
    [`sha1:${h('b')}`]: [{ _id: 'id with space', name: 'naïve.txt', size: 3 }],
  });
  const { url } = await startGateway(t, {
    routes: [
      { match: { path: '/files/' }, plugins: [{ 'hash-rewrite': { metadata: meta.url, mode: 'x-accel' } }] },
      {
        match: { path: '/custom/' },
        plugins: [
          { 'hash-rewrite': { metadata: meta.url, mode: 'x-accel', accelPrefix: '/internal/store/', path: '/custom/:hashtype/:hashsum' } },
        ],
      },
    ],
  });

  const cases = [
    { desc: 'default prefix', path: `/files/sha1/${h('a')}`, accel: '/archivei_accel/7', disposition: 'attachment; filename="report.pdf"' },
    {
      desc: 'HEAD gets the same headers',
      method: 'HEAD',
      path: `/files/sha1/${h('a')}`,
      accel: '/archivei_accel/7',
      disposition: 'attachment; filename="report.pdf"',
    },
    {
      desc: 'a configured prefix (trailing slash dropped), an _id encoded',
      path: `/custom/sha1/${h('b')}`,
      accel: '/internal/store/id%20with%20space',
      disposition: 'attachment; filename="naive.txt"; filename*=UTF-8\'\'na%C3%AFve.txt',
    },
    { desc: 'not found is still a JSON 404', path: `/files/sha1/${h('zzz')}`, status: 404 },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const res = await request(`${url}${c.path}`, { method: c.method ?? 'GET' });
      t.equal(res.status, c.status ?? 200, 'status');
      if (c.status) {
        t.notOk(res.headers['x-accel-redirect'], 'no redirect');
        expectError(t, res, 'GH_ERR_HASH_REWRITE_FILE_NOT_FOUND', c.status);
        return;
      }
      t.equal(res.body, '', 'empty body');
      t.equal(res.headers['content-length'], '0', 'Content-Length 0');
      t.equal(res.headers['x-accel-redirect'], c.accel, 'X-Accel-Redirect');
      t.equal(res.headers['content-disposition'], c.disposition, 'Content-Disposition');
      t.equal(res.headers['content-type'], 'application/octet-stream', 'Content-Type');
    });
  }
  t.equal(archive.requests.length, 0, 'the archive is never asked by gatehouse in x-accel mode');
});

t.test('hash-rewrite statusPath and fallthrough', async (t) => {
  const app = await startBackend(t, (req, res) => res.end(`app ${req.url}`));
  const meta = await startMetadata(t, {});
  const { url } = await startGateway(t, {
    upstreams: { app: { targets: [app.url] } },
    routes: [
      {
        match: { path: '/through/' },
        upstream: 'app',
        plugins: [
          { 'hash-rewrite': { metadata: meta.url, mode: 'x-accel', path: '/through/files/:hashtype/:hashsum', fallthrough: true } },
        ],
      },
      { match: { path: '/' }, plugins: [{ 'hash-rewrite': { metadata: meta.url, mode: 'x-accel', statusPath: '/' } }] },
    ],
  });
  const cases = [
    { desc: 'statusPath answers "up and running"', path: '/', status: 200, body: '{"message":"Pacifica Proxy Up and Running"}' },
    { desc: 'without fallthrough, other paths are 404', path: '/elsewhere', status: 404 },
    {
      desc: 'with fallthrough, other paths reach the route upstream',
      path: '/through/other?x=1',
      status: 200,
      body: 'app /through/other?x=1',
    },
    { desc: 'with fallthrough, the pattern is still served', path: `/through/files/sha1/${h('none')}`, status: 404 },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const res = await request(`${url}${c.path}`);
      t.equal(res.status, c.status, 'status');
      if (c.body) t.equal(res.body, c.body, 'body');
    });
  }
});

t.test('hash-rewrite options are checked before anything listens', async (t) => {
  const base = { metadata: 'http://127.0.0.1:1', archive: 'archive' };
  const cases = [
    { desc: 'metadata is required', options: { archive: 'archive' }, error: /missing required key "metadata"/ },
    { desc: 'metadata must be an http(s) URL', options: { ...base, metadata: 'ftp://x' }, error: /metadata/ },
    { desc: 'stream mode needs an archive', options: { metadata: 'http://127.0.0.1:1' }, error: /missing required key "archive"/ },
    { desc: 'an unknown key', options: { ...base, archve: 'x' }, error: /unknown key "archve"; did you mean "archive"/ },
    { desc: 'an unknown hash type', options: { ...base, hashTypes: ['md5', 'crc32'] }, error: /hashTypes\/1/ },
    { desc: 'a path without :hashsum', options: { ...base, path: '/files/:hashtype' }, error: /path/ },
    { desc: 'an unknown mode', options: { ...base, mode: 'redirect' }, error: /expected one of "stream", "x-accel"/ },
    { desc: 'a negative timeout', options: { ...base, timeout: -1 }, error: /timeout/ },
    {
      desc: 'an archive that is not declared',
      options: { ...base, archive: 'archiv' },
      error: /archive "archiv" is neither an http\(s\) URL nor a declared upstream/,
    },
    {
      desc: 'negativeTtl longer than ttl',
      options: { ...base, cache: { ttl: 1000, negativeTtl: 5000 } },
      error: /negativeTtl \(5000\) must not exceed cache.ttl \(1000\)/,
    },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const config = {
        upstreams: { archive: { targets: ['http://127.0.0.1:1'] } },
        routes: [{ plugins: [{ 'hash-rewrite': c.options }] }],
      };
      await t.rejects(createGateway({ config, logger: testLogger() }), { message: c.error }, 'refused');
    });
  }
  const ok = await createGateway({
    config: { routes: [{ plugins: [{ 'hash-rewrite': { metadata: 'http://127.0.0.1:1', mode: 'x-accel' } }] }] },
    logger: testLogger(),
  });
  t.pass('x-accel mode needs no archive');
  await ok.close(0);
});
