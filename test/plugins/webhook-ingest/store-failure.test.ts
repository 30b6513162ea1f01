import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { expectError } from '../../helpers/errors';
import { eventually, moPost, post, recordingBackend, webhookGateway } from './harness';

t.test('a store that cannot write: 503 with Retry-After, never a 200; accepted again once it can', async (t) => {
  const be = await recordingBackend(t);
  const { url, dir } = await webhookGateway(t, be.url, { verify: { required: false } });
  t.equal((await post(url, moPost('300000000000040', 1))).status, 200, 'stored while the file is free');
  await eventually(() => be.seen.length === 1);
  // Another process holds SQLite's write lock past the store's busy timeout: every write fails.
  const other = new Database(join(dir, 'gatehouse.db'));
  t.teardown(() => other.close());
  other.exec('BEGIN EXCLUSIVE');
  const t0 = Date.now();
  const refused = await post(url, moPost('300000000000040', 2));
  t.comment(`refused after ${Date.now() - t0} ms`);
  expectError(t, refused, 'GH_ERR_STORE_UNAVAILABLE', 503);
  t.equal(refused.headers['retry-after'], '5');
  other.exec('ROLLBACK');
  const again = await post(url, moPost('300000000000040', 2));
  t.equal(again.status, 200, 'the resend is accepted');
  const t1 = Date.now();
  await eventually(() => be.seen.length === 2);
  t.comment(`delivered after ${Date.now() - t1} ms`);
  t.equal(new URLSearchParams(be.seen[1].body).get('momsn'), '2');
});
