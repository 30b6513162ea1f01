import { readFileSync } from 'node:fs';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { createGateway, generateCertificate } from '../../app';
import { request, startBackend, testLogger } from '../helpers/servers';

/** GET over TLS trusting only `ca`; resolves with status, body and the peer certificate's fingerprint. */
function tlsGet(
  port: number,
  path: string,
  ca: string,
  servername = 'localhost',
): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, ca, servername, agent: false }, (res) => {
      const fingerprint = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? '';
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, fingerprint }));
    });
    req.on('error', reject);
  });
}

t.test('self-signed HTTPS: persisted, pinned across restarts, with an HTTP→HTTPS redirect', async (t) => {
  const be = await startBackend(t);
  const dir = t.testdir({});
  const config = {
    server: {
      http: { port: 0, host: '127.0.0.1', redirectToHttps: true },
      https: { port: 0, host: '127.0.0.1', selfSigned: { hosts: ['localhost', '127.0.0.1'], dir: join(dir, 'tls') } },
    },
    upstreams: { be: { targets: [be.url] } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  };

  const first = await (await createGateway({ config, logger: testLogger() })).listen();
  const cert = readFileSync(join(dir, 'tls', 'cert.pem'), 'utf8');
  const x509 = new X509Certificate(cert);
  t.match(x509.subjectAltName, /DNS:localhost/, 'SAN has the host name');
  t.match(x509.subjectAltName, /IP Address:127\.0\.0\.1/, 'SAN has the IP');
  t.equal(x509.publicKey.asymmetricKeyType, 'rsa', 'RSA key');

  const res = await tlsGet(first.addresses.https!.port, '/secure?x=1', cert);
  t.equal(res.status, 200, 'a real TLS client that trusts only this certificate gets through');
  const seen = JSON.parse(res.body);
  t.equal(seen.headers['x-forwarded-proto'], 'https', 'upstream learns the client used https');
  t.equal(res.fingerprint, x509.fingerprint256);

  const redirect = await request(`http://127.0.0.1:${first.addresses.http!.port}/secure?x=1`, { headers: { host: 'localhost' } });
  t.equal(redirect.status, 308, 'plain HTTP is redirected');
  t.equal(redirect.headers.location, `https://localhost:${first.addresses.https!.port}/secure?x=1`);
  await first.close(100);

  const second = await (await createGateway({ config, logger: testLogger() })).listen();
  t.teardown(() => second.close(100));
  const again = await tlsGet(second.addresses.https!.port, '/', cert);
  t.equal(again.fingerprint, x509.fingerprint256, 'the same certificate after a restart (clients can pin it)');

  await t.rejects(
    tlsGet(second.addresses.https!.port, '/', cert, 'other.example'),
    /altnames|Hostname/i,
    'a name outside the SANs is rejected by the client',
  );
});

t.test('HTTPS from cert/key files made by generateCertificate (gatehouse cert)', async (t) => {
  const be = await startBackend(t);
  const pair = await generateCertificate({ host: 'proxy.test', sanIps: ['127.0.0.1'], days: 30 });
  const dir = t.testdir({ 'cert.pem': pair.cert, 'key.pem': pair.key });
  const gw = await (
    await createGateway({
      config: {
        server: { https: { port: 0, host: '127.0.0.1', cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } },
        upstreams: { be: { targets: [be.url] } },
        routes: [{ match: { path: '/' }, upstream: 'be' }],
      },
      logger: testLogger(),
    })
  ).listen();
  t.teardown(() => gw.close(100));
  t.notOk(gw.addresses.http, 'no plain listener unless asked for');
  const res = await tlsGet(gw.addresses.https!.port, '/', pair.cert, 'proxy.test');
  t.equal(res.status, 200);
  const days = (new Date(new X509Certificate(pair.cert).validTo).getTime() - Date.now()) / 86_400_000;
  t.ok(days > 29 && days <= 30.01, `valid for the requested days (${days.toFixed(2)})`);
});
