import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { expectError } from '../helpers/errors';
import { tempDir, tryConnect, until } from '../helpers/gatehouse-process';
import { deadPort, fetchBuffer, sha256, startArchive, startMetadata } from '../helpers/pacifica';
import { findServer } from '../helpers/require-server';
import { startGateway } from '../helpers/servers';

/**
 * hash-rewrite in x-accel mode behind a real nginx with an `internal` location, then
 * the same scenario with gatehouse's accel-redirect plugin in nginx's place.
 */

/** Start nginx in the foreground with a config of its own in `dir`; killed at teardown. */
async function startNginx(
  t: Test,
  bin: string,
  dir: string,
  gatehousePort: number,
  archivePort: number,
): Promise<{ port: number; log: () => string }> {
  const port = await deadPort();
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    # The archive, reachable only through X-Accel-Redirect.
    location /archivei_accel/ {
      internal;
      proxy_pass http://127.0.0.1:${archivePort}/;
    }
    location / {
      proxy_pass http://127.0.0.1:${gatehousePort};
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(bin, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  t.teardown(async () => {
    if (gone) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  });
  const log = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await until(async () => !gone && (await tryConnect(port)) === 'connected', 10000);
  } catch {
    throw new Error(`nginx did not start: ${stderr} ${log()}`);
  }
  return { port, log };
}

t.test('files by hash through an X-Accel-Redirect front: nginx, then gatehouse accel-redirect', async (t) => {
  const file = randomBytes(2 * 1024 * 1024 + 11);
  const sum = sha256(file);
  const archive = await startArchive(t, { 55: file });
  const meta = await startMetadata(t, { [`sha256:${sum}`]: [{ _id: 55, name: 'données 2024.bin', size: file.length }] });
  // The Pacifica proxy role: gatehouse in x-accel mode, never touching the archive itself.
  const backend = await startGateway(t, {
    routes: [{ match: { path: '/' }, plugins: [{ 'hash-rewrite': { metadata: meta.url, mode: 'x-accel', statusPath: '/' } }] }],
  });

  const disposition = 'attachment; filename="donnees 2024.bin"; filename*=UTF-8\'\'donn%C3%A9es%202024.bin';
  const fronts = [
    {
      name: 'nginx with an internal location',
      async start(t: Test): Promise<string | undefined> {
        // findServer's parameter type is narrower than tap's overloaded skip(); the call itself is what it expects.
        const bin = findServer(t as unknown as Parameters<typeof findServer>[0], 'nginx');
        if (!bin) return undefined;
        const { port } = await startNginx(t, bin, tempDir(t, 'gatehouse-nginx-'), backend.port, archive.port);
        return `http://127.0.0.1:${port}`;
      },
    },
    {
      name: 'gatehouse with accel-redirect',
      async start(t: Test): Promise<string> {
        const front = await startGateway(t, {
          upstreams: { backend: { targets: [backend.url] }, archive: { targets: [archive.url] } },
          plugins: [{ 'accel-redirect': { locations: { '/archivei_accel/': { upstream: 'archive' } } } }],
          routes: [{ match: { path: '/' }, upstream: 'backend' }],
        });
        return front.url;
      },
    },
  ];

  for (const front of fronts) {
    t.test(front.name, async (t) => {
      const base = await front.start(t);
      if (!base) return;
      const archiveBefore = archive.requests.length;
      const cases = [
        {
          desc: 'the file is delivered byte for byte',
          path: `/files/sha256/${sum}`,
          status: 200,
          sha: sum,
          length: String(file.length),
          disposition,
        },
        {
          desc: 'a Range reaches the archive: 206',
          path: `/files/sha256/${sum}`,
          headers: { range: 'bytes=10-19' },
          status: 206,
          body: file.subarray(10, 20),
          contentRange: `bytes 10-19/${file.length}`,
        },
        {
          desc: 'HEAD: the headers without the body',
          path: `/files/sha256/${sum}`,
          method: 'HEAD',
          status: 200,
          body: Buffer.alloc(0),
          length: String(file.length),
          disposition,
        },
        {
          desc: 'an unknown hash: the JSON 404 passes through',
          path: `/files/sha256/${'0'.repeat(64)}`,
          status: 404,
          json: 'GH_ERR_HASH_REWRITE_FILE_NOT_FOUND',
        },
        { desc: 'a bad hash: 400', path: '/files/sha256/xyz', status: 400, json: 'GH_ERR_BAD_REQUEST' },
        { desc: 'the status path', path: '/', status: 200, body: Buffer.from('{"message":"Pacifica Proxy Up and Running"}') },
        { desc: 'the internal location from outside: 404', path: '/archivei_accel/55', status: 404, internal: true },
        { desc: 'the internal location without the slash: 404', path: '/archivei_accel', status: 404, internal: true },
      ];
      for (const c of cases) {
        await t.test(c.desc, async (t) => {
          const before = archive.requests.length;
          const res = await fetchBuffer(`${base}${c.path}`, { method: c.method ?? 'GET', headers: c.headers });
          t.equal(res.status, c.status, 'status');
          t.notOk(res.headers['x-accel-redirect'], 'X-Accel-Redirect never reaches the client');
          if (c.sha) t.equal(sha256(res.body), c.sha, 'sha256');
          if (c.body) t.ok(res.body.equals(c.body), 'body');
          if (c.length) t.equal(res.headers['content-length'], c.length, 'Content-Length');
          if (c.disposition) t.equal(res.headers['content-disposition'], c.disposition, 'Content-Disposition from hash-rewrite');
          if (c.contentRange) t.equal(res.headers['content-range'], c.contentRange, 'Content-Range');
          if (c.json) expectError(t, res, c.json, c.status);
          if (c.internal) t.equal(archive.requests.length, before, 'the archive was not reached');
        });
      }
      t.ok(archive.requests.length > archiveBefore, 'the front fetched from the archive itself');
      t.ok(
        archive.requests.slice(archiveBefore).every((r) => r.url === '/55'),
        'at /<_id>, the internal prefix stripped',
      );
    });
  }
});
