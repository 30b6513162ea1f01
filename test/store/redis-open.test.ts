// The Redis backend's opening and connection cases: durability checks, passwords, timeouts,
// restarts and failovers, close with the server gone.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { RedisStore } from '../../core/store/redis';
import { freePort, startRedis, openRedisStore } from '../helpers/redis';
import { captureLogger } from '../helpers/servers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const capture = () => captureLogger('debug');

t.test('open', async (t) => {
  const cases: {
    desc: string;
    server: Parameters<typeof startRedis>[1];
    url?: (port: number) => string;
    durability?: 'strict' | 'relaxed';
    error?: RegExp;
    warn?: RegExp;
  }[] = [
    { desc: 'strict accepts appendonly yes + appendfsync always', server: {} },
    {
      desc: 'strict refuses appendfsync everysec, naming what it found',
      server: { appendfsync: 'everysec' },
      error: /appendfsync always.*found appendonly yes, appendfsync everysec/,
    },
    { desc: 'strict refuses appendonly no', server: { appendonly: false }, error: /found appendonly no/ },
    { desc: 'relaxed accepts appendfsync everysec', server: { appendfsync: 'everysec' }, durability: 'relaxed' },
    {
      desc: 'strict warns when CONFIG is renamed away',
      server: { args: ['--rename-command', 'CONFIG', ''] },
      warn: /CONFIG GET is not allowed/,
    },
    {
      desc: 'strict warns when Redis may evict keys (maxmemory-policy not noeviction)',
      server: { args: ['--maxmemory-policy', 'allkeys-lru'] },
      warn: /maxmemory-policy is not noeviction/,
    },
    {
      desc: 'a wrong password is a clear error without the password',
      server: { password: 'right-secret' },
      url: (port) => `redis://:wrong-secret-xyz@127.0.0.1:${port}`,
      error: /127\.0\.0\.1:\d+.*(WRONGPASS|invalid)/i,
    },
    { desc: 'the right password opens', server: { password: 'p@ss:w/rd' } },
    { desc: 'a /db in the URL is used', server: {}, url: (port) => `redis://127.0.0.1:${port}/3` },
  ];
  for (const c of cases) {
    t.test(c.desc, async (t) => {
      const srv = await startRedis(t, c.server);
      if (!srv) return;
      const url = c.url ? c.url(srv.port) : srv.url;
      const { logger, lines } = capture();
      const store = new RedisStore({ url, durability: c.durability ?? 'strict', logger, connectTimeoutMs: 2000 });
      t.teardown(() => store.close());
      if (c.error) {
        const err = (await store.open().then(
          () => undefined,
          (e: Error) => e,
        )) as (Error & { code?: string }) | undefined;
        t.ok(err, 'open rejects');
        t.match(err?.message, c.error);
        t.equal(err?.code, 'GH_ERR_STORE_OPEN');
        t.notMatch(err?.message, /wrong-secret|right-secret/, 'no password in the message');
        return;
      }
      await store.open();
      t.equal(await store.kv.set('k', 1), 1, 'a write works');
      if (c.warn)
        t.ok(
          lines.some((l) => l.level === 40 && c.warn!.test(String(l.msg))),
          'warned',
        );
    });
  }
});

t.test('unreachable or silent servers fail within the timeout', async (t) => {
  const silent = net.createServer(() => {}); // accepts, never answers
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => silent.close());
  const closedPort = await new Promise<number>((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => r(port));
    });
  });
  const cases = [
    { desc: 'nothing listens', port: closedPort, error: /ECONNREFUSED/ },
    { desc: 'it accepts and never answers', port: (silent.address() as net.AddressInfo).port, error: /no answer within 500 ms|timeout/i },
  ];
  for (const c of cases) {
    t.test(c.desc, async (t) => {
      const store = new RedisStore({ url: `redis://u:topsecret@127.0.0.1:${c.port}`, durability: 'strict', connectTimeoutMs: 500 });
      const t0 = Date.now();
      const err = (await store.open().then(
        () => undefined,
        (e: Error) => e,
      )) as Error | undefined;
      const took = Date.now() - t0;
      await store.close();
      t.ok(err, 'rejects');
      t.match(err?.message, new RegExp(`127\\.0\\.0\\.1:${c.port}`), 'names host:port');
      t.match(err?.message, c.error);
      t.notMatch(err?.message, /topsecret/);
      t.ok(took < 1500, `failed in ${took} ms`);
    });
  }
});

t.test('connection loss', async (t) => {
  const cases: { desc: string; run(t: Test): Promise<void> }[] = [
    {
      desc: 'redis-server restarts: watchers get onError, then changes again; writes work again',
      async run(t) {
        const srv = await startRedis(t);
        if (!srv) return;
        const store = await openRedisStore(t, srv.url);
        const seen: string[] = [];
        const errors: string[] = [];
        store.kv.watch(
          'w/',
          (c) => seen.push(c.key),
          (e) => errors.push(e.message),
        );
        await store.kv.set('w/before', 1);
        for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(10);
        await srv.restart();
        let ok = false;
        for (let i = 0; i < 100 && !ok; i++)
          ok = await store.kv.set('w/after', 2).then(
            () => true,
            () => sleep(50).then(() => false),
          );
        t.ok(ok, 'a write works after the restart');
        await sleep(300);
        await store.kv.set('w/again', 3);
        await sleep(100);
        t.ok(errors.length >= 1, `onError: ${errors[0]}`);
        t.same(
          seen.filter((k) => k !== 'w/after'),
          ['w/before', 'w/again'],
          'changes before and after (the resubscribe may miss the first write after it)',
        );
        t.same((await store.kv.get('w/before'))?.value, 1, 'the AOF kept the write before the crash');
      },
    },
    {
      desc: 'a reconnect to a server that became weaker (a failover): strict logs an error',
      async run(t) {
        const srv = await startRedis(t);
        if (!srv) return;
        const { logger, lines } = capture();
        const store = new RedisStore({ url: srv.url, durability: 'strict', logger, prefix: 'weak:' });
        await store.open();
        t.teardown(() => store.close());
        const admin = new Redis(srv.url);
        t.teardown(() => admin.disconnect());
        await admin.config('SET', 'appendfsync', 'everysec');
        await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        for (let i = 0; i < 100 && !lines.some((l) => l.level === 50); i++) await sleep(20);
        const line = lines.find((l) => l.level === 50);
        t.match(line, { msg: 'redis store: the server reconnected to is not durable', err: /appendfsync everysec/ });
      },
    },
    {
      desc: 'close with the server gone (SIGKILLed) returns within the bound',
      async run(t) {
        const srv = await startRedis(t);
        if (!srv) return;
        const store = new RedisStore({ url: srv.url, durability: 'strict', prefix: 'gone:' });
        await store.open();
        store.kv.watch('', () => {});
        await store.kv.set('k', 1);
        await srv.kill();
        const pending = store.queue.enqueue('q', 1).catch((e: Error) => e);
        const t0 = Date.now();
        await store.close();
        const took = Date.now() - t0;
        t.ok(took < 2500, `closed in ${took} ms`);
        t.type(await pending, Error, 'an enqueue that cannot be answered rejects');
      },
    },
  ];
  for (const c of cases) t.test(c.desc, (t) => c.run(t));
});

t.test('rediss:// (TLS)', async (t) => {
  // A private CA: a self-signed certificate for 127.0.0.1, given to the server and, through
  // NODE_EXTRA_CA_CERTS, to a client process.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-redis-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' }); // prettier-ignore
  if (openssl.status !== 0) {
    t.skip('!!! openssl is not installed: no certificate for the TLS case');
    return;
  }
  const tlsPort = await freePort();
  const tls = await startRedis(t, { args: ['--tls-port', String(tlsPort), '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no'] }).catch((e: Error) => e); // prettier-ignore
  if (tls instanceof Error) {
    t.skip(`!!! this redis-server does not start with TLS: ${tls.message.slice(0, 300)}`);
    return;
  }
  if (!tls) return;
  const url = `rediss://127.0.0.1:${tlsPort}/1`;
  const script = `const { RedisStore } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'core', 'store', 'redis', 'index.js'))});
    const s = new RedisStore({ url: ${JSON.stringify(url)}, durability: 'strict', connectTimeoutMs: 3000 });
    s.open().then(() => s.kv.set('tls', 1)).then((v) => console.log('set', v), (e) => console.log(e.code, e.message)).finally(() => s.close());`;
  const env = { PATH: process.env.PATH ?? '' };
  const cases = [
    {
      desc: 'a certificate the client does not trust is refused, with the reason',
      env,
      out: /GH_ERR_STORE_OPEN Redis store rediss:\/\/127\.0\.0\.1:\d+\/1: cannot connect: self-signed certificate/,
    },
    { desc: 'trusted through NODE_EXTRA_CA_CERTS, it opens and writes', env: { ...env, NODE_EXTRA_CA_CERTS: cert }, out: /^set 1$/m },
  ];
  for (const c of cases) {
    t.test(c.desc, async (t) => {
      const r = spawnSync(process.execPath, ['-e', script], { env: c.env, encoding: 'utf8', timeout: 10_000 });
      t.match(r.stdout, c.out, r.stderr);
    });
  }
});
