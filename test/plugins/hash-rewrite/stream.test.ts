import { randomBytes } from 'node:crypto';
import t from 'tap';
import { expectError } from '../../helpers/errors';
import { fetchBuffer, hashOf, sha256, startArchive, startMetadata } from '../../helpers/pacifica';
import { startGateway } from '../../helpers/servers';

// Stream mode against a real metadata service and a real archive, both on port 0.
t.test('hash-rewrite stream mode', async (t) => {
  const big = randomBytes(4 * 1024 * 1024 + 123);
  const small = Buffer.from('hello from the archive\n');
  const dying = randomBytes(512 * 1024);
  const archive = await startArchive(t, { 101: big, 102: small, die: dying, 'a b/c': small, text: small });
  const h = (tag: string) => hashOf('sha1', tag);
  const meta = await startMetadata(t, {
    [`sha256:${sha256(big)}`]: [{ _id: 101, name: 'big data.bin', size: big.length, hashtype: 'sha256' }],
    [`md5:${hashOf('md5', small)}`]: [{ _id: 102, name: 'résumé.txt', size: small.length }],
    [`sha1:${h('two')}`]: [
      { _id: 102, name: 'first.txt', size: small.length },
      { _id: 101, name: 'second.bin', size: big.length },
    ],
    [`sha1:${h('missing')}`]: [{ _id: 999, name: 'gone.bin', size: 10 }],
    [`sha1:${h('fail')}`]: [{ _id: 'fail500', name: 'f.bin', size: 10 }],
    [`sha1:${h('die')}`]: [{ _id: 'die', name: 'd.bin', size: dying.length }],
    [`sha1:${h('mismatch')}`]: [{ _id: 102, name: 'm.bin', size: small.length + 5 }],
    [`sha1:${h('evil')}`]: [{ _id: 102, name: '../x.txt\r\nSet-Cookie: owned=1', size: small.length }],
    [`sha1:${h('odd-id')}`]: [{ _id: 'a b/c', name: 'odd.txt', size: small.length }],
    [`sha1:${h('text')}`]: [{ _id: 'text', name: 'doc.txt', size: small.length }],
    [`sha512:${hashOf('sha512', small)}`]: [{ _id: 102, name: 'nosize.txt' }],
  });
  const { gw, url } = await startGateway(t, {
    upstreams: { archive: { targets: [archive.url] } },
    routes: [
      { match: { path: '/files/' }, plugins: [{ 'hash-rewrite': { metadata: meta.url, archive: 'archive' } }] },
      {
        match: { path: '/byurl/' },
        plugins: [{ 'hash-rewrite': { metadata: `${meta.url}/ok/`, archive: `${archive.url}/`, path: '/byurl/:hashsum/:hashtype' } }],
      },
    ],
  });
  const streamedBytes = async () =>
    (await gw.metrics.registry.getSingleMetric('gatehouse_hash_rewrite_streamed_bytes_total')!.get()).values[0]?.value ?? 0;

  t.test('a few MB byte for byte, with the file headers', async (t) => {
    const before = await streamedBytes();
    const res = await fetchBuffer(`${url}/files/sha256/${sha256(big)}`, { headers: { 'accept-encoding': 'gzip, br' } });
    t.equal(res.status, 200, 'status 200');
    t.equal(res.body.length, big.length, 'every byte arrived');
    t.equal(sha256(res.body), sha256(big), 'sha256 of the body matches the file');
    t.equal(res.headers['content-type'], 'application/octet-stream', 'Content-Type');
    t.equal(res.headers['content-disposition'], 'attachment; filename="big data.bin"', 'Content-Disposition');
    t.equal(res.headers['content-length'], String(big.length), 'Content-Length from the record size');
    t.equal(res.headers['accept-ranges'], 'bytes', 'Accept-Ranges');
    t.notOk(res.headers['content-encoding'], 'no content coding');
    t.equal(meta.calls.at(-1), `/files?hashsum=${sha256(big)}&hashtype=sha256`, 'the metadata service was asked by hash');
    const last = archive.requests.at(-1)!;
    t.same([last.method, last.url], ['GET', '/101'], 'the archive was asked for /<_id>');
    t.notOk(last.headers['accept-encoding'], 'Accept-Encoding is not passed to the archive');
    await new Promise((r) => setTimeout(r, 20));
    t.equal((await streamedBytes()) - before, big.length, 'streamed bytes are counted');
  });

  t.test("Range requests pass through; the archive's 206 and 416 come back", async (t) => {
    const path = `${url}/files/sha256/${sha256(big)}`;
    const n = big.length;
    const cases = [
      { desc: 'first 100 bytes', range: 'bytes=0-99', status: 206, slice: [0, 100], contentRange: `bytes 0-99/${n}` },
      {
        desc: 'an open-ended range',
        range: `bytes=${n - 1000}-`,
        status: 206,
        slice: [n - 1000, n],
        contentRange: `bytes ${n - 1000}-${n - 1}/${n}`,
      },
      { desc: 'a suffix range', range: 'bytes=-10', status: 206, slice: [n - 10, n], contentRange: `bytes ${n - 10}-${n - 1}/${n}` },
      { desc: 'a range past the end', range: `bytes=${n + 10}-`, status: 416, contentRange: `bytes */${n}` },
    ];
    for (const c of cases) {
      await t.test(c.desc, async (t) => {
        const res = await fetchBuffer(path, { headers: { range: c.range } });
        t.equal(res.status, c.status, 'status');
        t.equal(res.headers['content-range'], c.contentRange, 'Content-Range');
        t.equal(archive.requests.at(-1)!.range, c.range, 'Range reached the archive');
        if (c.slice) {
          t.ok(res.body.equals(big.subarray(c.slice[0], c.slice[1])), 'the right bytes');
          t.equal(res.headers['content-length'], String(c.slice[1] - c.slice[0]), 'Content-Length of the part');
          t.equal(res.headers['content-disposition'], 'attachment; filename="big data.bin"', 'disposition');
          t.equal(res.headers['content-type'], 'application/octet-stream', 'content-type');
        }
      });
    }
  });

  t.test('answers by case', async (t) => {
    const cases = [
      {
        desc: 'HEAD: headers only, the archive is asked with HEAD',
        method: 'HEAD',
        path: `/files/md5/${hashOf('md5', small)}`,
        status: 200,
        length: String(small.length),
        archiveMethod: 'HEAD',
        bodyLength: 0,
      },
      {
        desc: 'a non-ASCII name gets filename*',
        path: `/files/md5/${hashOf('md5', small)}`,
        status: 200,
        body: small,
        disposition: 'attachment; filename="resume.txt"; filename*=UTF-8\'\'r%C3%A9sum%C3%A9.txt',
      },
      {
        desc: 'upper-case hex is the same file (asked in lower case)',
        path: `/files/MD5/${hashOf('md5', small).toUpperCase()}`,
        status: 200,
        body: small,
        metaCall: `hashsum=${hashOf('md5', small)}&hashtype=md5`,
      },
      {
        desc: 'the query string is ignored',
        path: `/files/md5/${hashOf('md5', small)}?download=1`,
        status: 200,
        body: small,
        archiveUrl: '/102',
      },
      {
        desc: 'the first record is used',
        path: `/files/sha1/${h('two')}`,
        status: 200,
        body: small,
        disposition: 'attachment; filename="first.txt"',
      },
      {
        desc: 'an _id is percent-encoded into one path segment',
        path: `/files/sha1/${h('odd-id')}`,
        status: 200,
        body: small,
        archiveUrl: '/a%20b%2Fc',
      },
      {
        desc: "the archive's own content-type is replaced",
        path: `/files/sha1/${h('text')}`,
        status: 200,
        body: small,
        type: 'application/octet-stream',
      },
      {
        desc: "a record without size: the archive's Content-Length",
        path: `/files/sha512/${hashOf('sha512', small)}`,
        status: 200,
        body: small,
        length: String(small.length),
      },
      {
        desc: 'an upstream URL as archive, a reordered path pattern',
        path: `/byurl/${hashOf('md5', small)}/md5`,
        status: 200,
        body: small,
        archiveUrl: '/102',
      },
      {
        desc: 'archive 404 is a 502, not a 200 with a broken body',
        path: `/files/sha1/${h('missing')}`,
        status: 502,
        code: 'GH_ERR_HASH_REWRITE_ARCHIVE_FAILED',
      },
      { desc: 'archive 500 is a 502', path: `/files/sha1/${h('fail')}`, status: 502, code: 'GH_ERR_HASH_REWRITE_ARCHIVE_FAILED' },
      {
        desc: 'archive size differs from the metadata: 502',
        path: `/files/sha1/${h('mismatch')}`,
        status: 502,
        code: 'GH_ERR_HASH_REWRITE_ARCHIVE_FAILED',
      },
    ];
    for (const c of cases) {
      // One at a time: each case reads the last archive request and metadata call.
      await t.test(c.desc, async (t) => {
        const res = await fetchBuffer(`${url}${c.path}`, { method: c.method ?? 'GET' });
        t.equal(res.status, c.status, 'status');
        if (c.body) t.ok(res.body.equals(c.body), 'body');
        if (c.bodyLength !== undefined) t.equal(res.body.length, c.bodyLength, 'body length');
        if (c.length) t.equal(res.headers['content-length'], c.length, 'Content-Length');
        if (c.disposition) t.equal(res.headers['content-disposition'], c.disposition, 'disposition');
        if (c.type) t.equal(res.headers['content-type'], c.type, 'content-type');
        if (c.archiveMethod) t.equal(archive.requests.at(-1)!.method, c.archiveMethod, 'archive method');
        if (c.archiveUrl) t.equal(archive.requests.at(-1)!.url, c.archiveUrl, 'archive URL');
        if (c.metaCall) t.ok(meta.calls.at(-1)!.endsWith(c.metaCall), 'metadata query');
        if (c.code) {
          expectError(t, res, c.code, c.status);
          t.notOk(res.headers['content-disposition'], 'no attachment header on an error');
        }
      });
    }
  });

  t.test('an archive that dies mid-body: the client connection is cut, not ended cleanly', async (t) => {
    const res = await fetchBuffer(`${url}/files/sha1/${h('die')}`);
    t.equal(res.status, 200, 'the head was already sent');
    t.equal(res.headers['content-length'], String(dying.length), 'Content-Length announced');
    t.ok(res.body.length < dying.length, 'fewer bytes than announced');
    t.notOk(res.complete, 'the client sees an incomplete response');
  });

  t.test('a name that tries to inject a header or a path', async (t) => {
    const res = await fetchBuffer(`${url}/files/sha1/${h('evil')}`);
    t.equal(res.status, 200, 'served');
    t.notOk(res.headers['set-cookie'], 'no injected Set-Cookie');
    t.equal(res.headers['content-disposition'], 'attachment; filename="x.txtSet-Cookie: owned=1"', 'CR LF removed, path dropped');
  });
});
