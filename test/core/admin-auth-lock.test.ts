import t from 'tap';
import { AuthFailures, AUTH_FAILURE_LIMIT } from '../../core/server/auth-failures';
import { expectError } from '../helpers/errors';
import { request, startBackend, startGateway } from '../helpers/servers';

const TOKEN = 'lock-test-admin-token-0123456789';

/**
 * Wrong admin tokens are limited per client address (core/server/auth-failures.ts): past
 * AUTH_FAILURE_LIMIT in a window, every attempt from it is refused with 429 and Retry-After.
 */
t.test('a client that keeps presenting wrong tokens is locked out, the bearer API and the login form alike', async (t) => {
  const be = await startBackend(t);
  const { adminUrl } = await startGateway(t, {
    admin: { token: TOKEN },
    upstreams: { be: { targets: [be.url] } },
    routes: [{ match: { path: '/' }, upstream: 'be' }],
  });
  const admin = adminUrl!;
  const bearer = (token: string) => request(`${admin}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const cases = [
    {
      desc: 'no token at all is not an attempt',
      run: () => request(`${admin}/metrics`),
      status: 401,
      code: 'GH_ERR_UNAUTHORIZED',
      times: 20,
    },
    {
      desc: 'wrong tokens up to the limit: 401',
      run: () => bearer('wrong'),
      status: 401,
      code: 'GH_ERR_UNAUTHORIZED',
      times: AUTH_FAILURE_LIMIT,
    },
    { desc: 'one more: 429', run: () => bearer('wrong'), status: 429, code: 'GH_ERR_AUTH_LOCKED', times: 1 },
    {
      desc: 'the right token from that address too, while locked',
      run: () => bearer(TOKEN),
      status: 429,
      code: 'GH_ERR_AUTH_LOCKED',
      times: 1,
    },
    {
      desc: 'the dashboard login form too',
      run: () =>
        request(`${admin}/ui/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: TOKEN }).toString(),
        }),
      status: 429,
      code: 'GH_ERR_AUTH_LOCKED',
      times: 1,
    },
    { desc: 'open endpoints stay open', run: () => request(`${admin}/healthz`), status: 200, code: undefined, times: 1 },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      for (let i = 0; i < c.times; i++) {
        const res = await c.run();
        if (c.code) expectError(t, res, c.code, c.status);
        else t.equal(res.status, c.status);
        if (c.status === 429) t.match(String(res.headers['retry-after']), /^\d+$/, 'Retry-After in seconds');
      }
    });
  }
});

t.test('the window: counted from the first failure, over once it has passed', async (t) => {
  let now = 1_000_000;
  const failures = new AuthFailures(3, 60_000, () => now);
  const req = () => ({ socket: { remoteAddress: '::ffff:10.0.0.1' } }) as never;
  const headers: Record<string, string> = {};
  const res = { setHeader: (k: string, v: string) => (headers[k] = v) } as never;
  const locked = () => {
    try {
      failures.refuseIfLocked(req(), res);
      return false;
    } catch {
      return true;
    }
  };
  const cases = [
    { desc: 'two failures: not locked', fail: 2, advance: 0, locked: false },
    { desc: 'the third: locked, Retry-After is the rest of the window', fail: 1, advance: 0, locked: true, retryAfter: '60' },
    { desc: '59.5 s later: still locked, 1 s left', fail: 0, advance: 59_500, locked: true, retryAfter: '1' },
    { desc: 'past the window: open again', fail: 0, advance: 1_000, locked: false },
    { desc: 'a new failure starts a new window', fail: 1, advance: 0, locked: false },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      now += c.advance;
      for (let i = 0; i < c.fail; i++) failures.fail(req());
      t.equal(locked(), c.locked);
      if (c.retryAfter) t.equal(headers['retry-after'], c.retryAfter);
    });
  }
});
