import t from 'tap';
import { request, startBackend, startGateway } from '../helpers/servers';

t.test('forwards to the upstream with X-Forwarded-* and without hop-by-hop headers', async (t) => {
  const be = await startBackend();
  const { gw, url } = await startGateway({ upstreams: { be: { targets: [be.url] } }, routes: [{ match: { path: '/' }, upstream: be.url ? 'be' : undefined }] });
  t.teardown(async () => { await gw.close(100); await be.close(); });
  const res = await request(`${url}/a/b?x=1`, { headers: { 'x-forwarded-for': '6.6.6.6', 'keep-alive': 'timeout=5', 'x-custom': 'yes', connection: 'x-custom, close', te: 'trailers' } });
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
