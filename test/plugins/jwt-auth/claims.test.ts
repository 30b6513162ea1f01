import t from 'tap';
import { definePlugin, JWT_CLAIMS, type JwtClaims } from '../../../app';
import { captureLogger, raw, request } from '../../helpers/servers';
import { AUDIENCE, counted, jwtGateway, SECRET, sign } from './harness';

const HS = { algorithms: ['HS512'], secret: SECRET, audience: AUDIENCE };

/** A custom plugin after jwt-auth: answers with what it reads under the state key (as a package user would import it). */
const claimsEcho = definePlugin<Record<string, never>>({
  name: 'claims-echo',
  schema: { type: 'object', additionalProperties: false },
  create: () => ({
    handle(ctx) {
      const claims: JwtClaims | undefined = ctx.get(JWT_CLAIMS);
      let mutable = true;
      try {
        (claims as any).sub = 'someone-else';
        (claims as any).roles.push('admin');
      } catch {
        mutable = false;
      }
      ctx.json(200, { claims: claims ?? null, mutable });
    },
  }),
});

t.test('the verified claims reach a later plugin through JWT_CLAIMS', async (t) => {
  const { url } = await jwtGateway(t, { ...HS, except: [{ path: '/public' }] }, { after: [{ 'claims-echo': {} }], plugins: [claimsEcho] });
  const cases = [
    { desc: 'a verified token', path: '/api', token: { sub: 'user-7', roles: ['reader'] }, want: { sub: 'user-7', roles: ['reader'] } },
    { desc: 'an except path: no claims', path: '/public', want: null },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const headers: Record<string, string> = c.token ? { authorization: `Bearer ${await sign(c.token)}` } : {};
      const res = await request(`${url}${c.path}`, { headers });
      t.equal(res.status, 200);
      const body = JSON.parse(res.body);
      if (c.want === null) t.equal(body.claims, null, 'nothing under the key');
      else {
        t.match(body.claims, c.want, 'the claims');
        t.equal(body.mutable, false, 'frozen, nested values too');
      }
    });
  }
});

t.test('forwardClaims sets headers upstream; client-sent ones of those names never pass', async (t) => {
  const forwardClaims = { sub: 'X-User', roles: 'X-Roles', org: 'X-Org', name: 'X-Name', n: 'X-N' };
  const { url } = await jwtGateway(t, { ...HS, forwardClaims, except: [{ path: '/public' }] });
  const forged = { 'x-user': 'admin', x_user: 'admin', 'X-Roles': 'admin', 'x-org': 'evil' };
  const cases = [
    {
      desc: 'a verified token: its claims, not the forged values',
      path: '/api',
      claims: { sub: 'user-7', roles: ['reader', 'writer'], org: { id: 3 }, name: 'José', n: 42 },
      want: { 'x-user': 'user-7', 'x-roles': 'reader, writer', 'x-org': '{"id":3}', 'x-name': 'José', 'x-n': '42' },
    },
    {
      desc: 'a token without some claims: those headers are absent',
      path: '/api',
      claims: { sub: 'user-8' },
      want: { 'x-user': 'user-8' },
    },
    { desc: 'an except path: forged headers removed, none set', path: '/public', want: {} },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const headers: Record<string, string> = { ...forged };
      if (c.claims) headers.authorization = `Bearer ${await sign(c.claims)}`;
      const res = await request(`${url}${c.path}`, { headers });
      t.equal(res.status, 200);
      const seen = JSON.parse(res.body).headers as Record<string, string>;
      const got = Object.fromEntries(
        Object.entries(seen)
          .filter(([k]) => ['x-user', 'x_user', 'x-roles', 'x-org', 'x-name', 'x-n'].includes(k))
          // The backend reads header bytes as latin1; UTF-8 was sent.
          .map(([k, v]) => [k, Buffer.from(v, 'latin1').toString('utf8')]),
      );
      t.same(got, c.want, 'exactly the claim headers');
    });
  }
});

t.test('from a trusted proxy too, X_User (read as X-User by CGI-style backends) is removed', async (t) => {
  const { url } = await jwtGateway(t, { ...HS, forwardClaims: { sub: 'X-User' } }, { server: { trustProxy: ['127.0.0.1/32'] } });
  const res = await request(`${url}/api`, {
    headers: { authorization: `Bearer ${await sign({ sub: 'user-9' })}`, x_user: 'admin', 'x-other_h': '1' },
  });
  const seen = JSON.parse(res.body).headers as Record<string, string>;
  t.equal(seen['x-user'], 'user-9', 'the claim');
  t.equal(seen.x_user, undefined, 'the forged underscore variant is gone');
  t.equal(seen['x-other_h'], '1', 'other underscore headers from a trusted proxy pass, as core lets them');
});

t.test('outcomes are counted; logs never hold the token', async (t) => {
  const { logger, lines } = captureLogger('debug');
  const { gw, url } = await jwtGateway(t, { ...HS, except: [{ path: '/public' }] }, { logger });
  const good = await sign({ secretClaim: 'do-not-log-me' });
  const expired = await sign({ exp: Math.floor(Date.now() / 1000) - 3600, secretClaim: 'do-not-log-me' });
  const forged = `${good.slice(0, good.lastIndexOf('.'))}.${Buffer.from('x'.repeat(64)).toString('base64url')}`;
  const sends = [
    { headers: { authorization: `Bearer ${good}` }, status: 200 },
    { headers: { authorization: `Bearer ${expired}` }, status: 401 },
    { headers: { authorization: `Bearer ${forged}` }, status: 401 },
    { headers: {}, status: 401 },
    { headers: {}, status: 200, path: '/public' },
  ];
  for (const s of sends) t.equal((await request(`${url}${s.path ?? '/api'}`, { headers: s.headers })).status, s.status);
  const outcomes = { valid: 1, expired: 1, invalid: 1, missing: 1, exempt: 1 };
  for (const [outcome, n] of Object.entries(outcomes)) t.equal(await counted(gw, outcome), n, `${outcome} counted`);
  const text = lines.map((l) => JSON.stringify(l)).join('\n');
  t.ok(
    lines.some((l) => /expired/.test(l.msg ?? '')),
    'refusals are logged (at debug)',
  );
  for (const secret of [good, expired, forged, 'do-not-log-me', good.split('.')[1], good.split('.')[2]])
    t.notOk(text.includes(secret), 'no token, part of one or claim in the logs');
});

t.test('a WebSocket upgrade is checked too', async (t) => {
  const { url } = await jwtGateway(t, HS, { route: { websocket: true } });
  const port = Number(new URL(url).port);
  const upgrade = (auth: string) =>
    `GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${auth}\r\n`;
  const refused = await raw(port, upgrade(''));
  t.match(refused, /^HTTP\/1\.1 401 /, 'no token: 401');
  t.match(refused, /GH_ERR_JWT_AUTH_MISSING/, 'with the code');
  t.match(refused, /\r\nwww-authenticate: Bearer realm="[^"]+"\r\n/i, 'and the challenge, as on a plain request');
  const passed = await raw(port, upgrade(`Authorization: Bearer ${await sign()}\r\n`), 1000);
  t.notMatch(passed, /^HTTP\/1\.1 401 /, 'a valid token passes on to the upstream');
});
