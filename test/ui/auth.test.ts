import http from 'node:http';
import t, { type Test } from 'tap';
import { expectError } from '../helpers/errors';
import { request, startBackend, startGateway } from '../helpers/servers';

const TOKEN = 'dashboard-admin-token-0123456789';

/** Log in with the form; returns the cookie pair and the raw Set-Cookie. */
async function login(admin: string, token = TOKEN) {
  const res = await request(`${admin}/ui/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  const set = String(res.headers['set-cookie'] ?? '');
  return { res, set, cookie: set.split(';')[0] };
}

t.test('dashboard: login, session cookie, CSRF and headers', async (t) => {
  const be = await startBackend(t);
  const { url, adminUrl } = await startGateway(t, {
    admin: { token: TOKEN },
    upstreams: { be: { targets: [be.url] } },
    routes: [{ name: 'all', match: { path: '/' }, upstream: 'be', plugins: [] }],
  });
  const admin = adminUrl!;
  await request(`${url}/x`);
  const ok = await login(admin);
  const session = ok.cookie;
  const csrf = JSON.parse((await request(`${admin}/ui/api/session`, { headers: { cookie: session } })).body).csrf as string;

  t.test('the cookie', async (t) => {
    t.equal(ok.res.status, 303);
    t.equal(ok.res.headers.location, '/ui/');
    t.match(ok.set, /^gatehouse_ui=[A-Za-z0-9_-]{43}; /, 'a random id');
    t.notOk(ok.set.includes(TOKEN), 'not the token');
    for (const attr of ['HttpOnly', 'SameSite=Strict', 'Path=/ui']) t.ok(ok.set.includes(attr), attr);
    t.notOk(ok.set.includes('Secure'), 'no Secure flag on a plain-HTTP admin listener');
    t.type(csrf, 'string');
  });

  const cases: {
    desc: string;
    path: string;
    method?: string;
    headers?: Record<string, string>;
    status: number;
    code?: string;
    check?: (t: Test, res: Awaited<ReturnType<typeof request>>) => void;
  }[] = [
    {
      desc: 'the page without a session redirects to login',
      path: '/ui/',
      status: 303,
      check: (t, r) => t.equal(r.headers.location, '/ui/login'),
    },
    { desc: '/ui goes to /ui/', path: '/ui', status: 303 },
    { desc: 'login page is open', path: '/ui/login', status: 200, check: (t, r) => t.match(r.body, /<form method="post"/) },
    { desc: 'its CSS is open', path: '/ui/login.css', status: 200 },
    { desc: 'API without a session', path: '/ui/api/state', status: 401, code: 'GH_ERR_UI_LOGIN' },
    { desc: 'events without a session', path: '/ui/api/events', status: 401, code: 'GH_ERR_UI_LOGIN' },
    { desc: 'app files without a session', path: '/ui/app/app.js', status: 401, code: 'GH_ERR_UI_LOGIN' },
    { desc: 'vendor files without a session', path: '/ui/vendor/preact-11.2.0.mjs', status: 401, code: 'GH_ERR_UI_LOGIN' },
    { desc: 'unknown paths without a session tell nothing', path: '/ui/nope', status: 401, code: 'GH_ERR_UI_LOGIN' },
    { desc: 'the bearer token is no session', path: '/ui/api/state', headers: { authorization: `Bearer ${TOKEN}` }, status: 401 },
    { desc: 'a made-up cookie', path: '/ui/api/state', headers: { cookie: 'gatehouse_ui=forged' }, status: 401 },
    { desc: 'the page with a session', path: '/ui/', headers: { cookie: session }, status: 200 },
    {
      desc: 'state with a session',
      path: '/ui/api/state',
      headers: { cookie: session },
      status: 200,
      check: (t, r) => t.ok(JSON.parse(r.body).upstreams.be, 'the upstreams as /upstreams answers'),
    },
    {
      desc: 'vendor file: immutable, with an ETag',
      path: '/ui/vendor/uplot-1.6.32.mjs',
      headers: { cookie: session },
      status: 200,
      check: (t, r) => {
        t.match(r.headers['cache-control'], /immutable/);
        t.match(r.headers.etag, /^".+"$/);
        t.match(r.headers['content-type'], /^text\/javascript/);
      },
    },
    {
      desc: "the app's own files are revalidated",
      path: '/ui/app/app.js',
      headers: { cookie: session },
      status: 200,
      check: (t, r) => t.equal(r.headers['cache-control'], 'no-cache'),
    },
    { desc: 'files off the allow-list', path: '/ui/app/..%2F..%2Fpackage.json', headers: { cookie: session }, status: 404 },
    { desc: 'a source map is not on it either', path: '/ui/vendor/preact.mjs.map', headers: { cookie: session }, status: 404 },
    {
      desc: 'an action without the CSRF token',
      path: '/ui/api/webhooks/x/replay',
      method: 'POST',
      headers: { cookie: session },
      status: 403,
      code: 'GH_ERR_UI_CSRF',
    },
    {
      desc: 'an action with a wrong CSRF token',
      path: '/ui/api/tasks/x/1',
      method: 'DELETE',
      headers: { cookie: session, 'x-csrf-token': csrf.replace(/.$/, csrf.endsWith('A') ? 'B' : 'A') },
      status: 403,
      code: 'GH_ERR_UI_CSRF',
    },
    {
      desc: 'an action from another origin',
      path: '/ui/api/webhooks/x/replay',
      method: 'POST',
      headers: { cookie: session, 'x-csrf-token': csrf, origin: 'http://evil.example' },
      status: 403,
      code: 'GH_ERR_UI_CSRF',
    },
    {
      desc: 'an action with the token reaches the admin handler (here: no such plugin endpoint)',
      path: '/ui/api/webhooks/x/replay',
      method: 'POST',
      headers: { cookie: session, 'x-csrf-token': csrf },
      status: 404,
      code: 'GH_ERR_NOT_FOUND',
    },
    {
      desc: 'an action without a session',
      path: '/ui/api/webhooks/x/replay',
      method: 'POST',
      headers: { 'x-csrf-token': csrf },
      status: 401,
    },
  ];
  for (const c of cases)
    t.test(c.desc, async (t) => {
      const res = await request(`${admin}${c.path}`, { method: c.method ?? 'GET', headers: c.headers });
      t.equal(res.status, c.status, 'status');
      if (c.code) expectError(t, res, c.code, c.status);
      t.match(res.headers['content-security-policy'], /default-src 'self'.*frame-ancestors 'none'/, 'CSP');
      t.equal(res.headers['x-content-type-options'], 'nosniff');
      t.equal(res.headers['referrer-policy'], 'same-origin');
      c.check?.(t, res);
    });

  t.test('a wrong token is refused: 401, the form again, no cookie', async (t) => {
    const bad = await login(admin, TOKEN.replace(/.$/, 'x'));
    t.equal(bad.res.status, 401);
    t.equal(bad.set, '');
    t.match(bad.res.body, /role="alert"/);
  });

  t.test('a revalidated file answers 304', async (t) => {
    const first = await request(`${admin}/ui/app/app.css`, { headers: { cookie: session } });
    const again = await request(`${admin}/ui/app/app.css`, { headers: { cookie: session, 'if-none-match': String(first.headers.etag) } });
    t.equal(again.status, 304);
  });

  t.test('the event stream: history and state at once, ended by a logout', async (t) => {
    const other = await login(admin);
    const c2 = JSON.parse((await request(`${admin}/ui/api/session`, { headers: { cookie: other.cookie } })).body).csrf;
    let text = '';
    const ended = new Promise<void>((resolve, reject) => {
      http
        .get(`${admin}/ui/api/events`, { headers: { cookie: other.cookie }, agent: false }, (res) => {
          t.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    const started = Date.now();
    while (!text.includes('event: state') && Date.now() - started < 10000) await new Promise((r) => setTimeout(r, 20));
    t.match(text, /^event: history\ndata: \{"last":\d+,"routes":\{"all":\{"t":\[/, 'history first, with the route sampled');
    t.match(text, /event: state\ndata: \{"at":/, 'then the state');
    await request(`${admin}/ui/logout`, { method: 'POST', headers: { cookie: other.cookie, 'x-csrf-token': c2 } });
    await ended;
    t.pass('stream ended after the logout');
  });

  t.test('logout ends the session', async (t) => {
    const other = await login(admin);
    const c2 = JSON.parse((await request(`${admin}/ui/api/session`, { headers: { cookie: other.cookie } })).body).csrf;
    const out = await request(`${admin}/ui/logout`, { method: 'POST', headers: { cookie: other.cookie, 'x-csrf-token': c2 } });
    t.equal(out.status, 200);
    t.equal((await request(`${admin}/ui/api/state`, { headers: { cookie: other.cookie } })).status, 401);
    t.equal((await request(`${admin}/ui/api/state`, { headers: { cookie: session } })).status, 200, 'other sessions live on');
  });
});
