import http from 'node:http';
import t, { type Test } from 'tap';
import { expectError } from '../../helpers/errors';
import { deadPort, request, startBackend } from '../../helpers/servers';
import { AUDIENCE, jwtGateway, makeKeys, sign, type Keys } from './harness';

/** A real JWKS endpoint: serves `keys` (with their kids) or `answer`'s status, counting fetches. */
async function jwksServer(t: Test, initial: object[]) {
  const state = { keys: initial, fetches: 0, status: 200, body: undefined as string | undefined, hang: false };
  const be = await startBackend(t, (req: http.IncomingMessage, res: http.ServerResponse) => {
    state.fetches++;
    if (state.hang) return; // never answers: the gateway's timeout must end it
    const body = state.body ?? JSON.stringify({ keys: state.keys });
    res.writeHead(state.status, { 'content-type': 'application/json' });
    res.end(body);
  });
  return { state, url: `${be.url}/.well-known/jwks.json`, close: be.close };
}

const jwk = (k: Keys, name: 'rsa' | 'rsa2' | 'ec', kid: string) => ({ ...k[name].jwk, kid, use: 'sig' });
const options = (jwksUrl: string, more: Record<string, unknown> = {}) => ({
  algorithms: ['RS256', 'ES256'],
  jwksUrl,
  audience: AUDIENCE,
  ...more,
});
const get = async (url: string, token: string) => request(`${url}/api`, { headers: { authorization: `Bearer ${token}` } });

t.test('JWKS: cached, refetched once for an unknown kid, at most once per cooldown', async (t) => {
  const keys = await makeKeys();
  const cases = [
    {
      desc: 'a kid added at the issuer: one refetch, then cached',
      cooldownMs: 0,
      run: async (t: Test, s: Awaited<ReturnType<typeof jwksServer>>, url: string) => {
        t.equal(s.state.fetches, 1, 'fetched once at start');
        t.equal((await get(url, await sign({}, { alg: 'RS256', key: keys.rsa.privateKey, kid: 'a' }))).status, 200, 'kid a');
        t.equal(s.state.fetches, 1, 'from the cache');
        s.state.keys = [jwk(keys, 'rsa', 'a'), jwk(keys, 'ec', 'b')];
        t.equal((await get(url, await sign({}, { alg: 'ES256', key: keys.ec.privateKey, kid: 'b' }))).status, 200, 'kid b after rotation');
        t.equal(s.state.fetches, 2, 'exactly one refetch for the unknown kid');
        t.equal((await get(url, await sign({}, { alg: 'ES256', key: keys.ec.privateKey, kid: 'b' }))).status, 200, 'kid b again');
        t.equal(s.state.fetches, 2, 'cached');
      },
    },
    {
      desc: 'an unknown kid within the cooldown: 401 and no refetch',
      cooldownMs: 30000,
      run: async (t: Test, s: Awaited<ReturnType<typeof jwksServer>>, url: string) => {
        const res = await get(url, await sign({}, { alg: 'RS256', key: keys.rsa2.privateKey, kid: 'zzz' }));
        const body = expectError(t, res, 'GH_ERR_JWT_AUTH_INVALID', 401);
        t.match(body.error.message, /No key of the key set matches/);
        t.match(res.headers['www-authenticate'], /error="invalid_token"/);
        t.equal(s.state.fetches, 1, 'no refetch');
      },
    },
    {
      desc: 'a kid of the set signed by another key: 401',
      cooldownMs: 0,
      run: async (t: Test, _s: unknown, url: string) => {
        const res = await get(url, await sign({}, { alg: 'RS256', key: keys.rsa2.privateKey, kid: 'a' }));
        expectError(t, res, 'GH_ERR_JWT_AUTH_INVALID', 401);
      },
    },
    {
      desc: 'HS256 signed with a JWK of the set is refused',
      cooldownMs: 0,
      run: async (t: Test, _s: unknown, url: string) => {
        const res = await get(url, await sign({}, { alg: 'HS256', key: JSON.stringify(jwk(keys, 'rsa', 'a')), kid: 'a' }));
        expectError(t, res, 'GH_ERR_JWT_AUTH_INVALID', 401);
      },
    },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const s = await jwksServer(t, [jwk(keys, 'rsa', 'a')]);
      const { url } = await jwtGateway(t, options(s.url, { jwksCooldownMs: c.cooldownMs }));
      await c.run(t, s, url);
    });
  }
});

t.test('JWKS unavailable: 503 GH_ERR_JWT_AUTH_JWKS_UNAVAILABLE, unless keys fetched before fit', async (t) => {
  const keys = await makeKeys();
  const token = (kid = 'a', key = keys.rsa.privateKey) => sign({}, { alg: 'RS256', key, kid });
  const unavailable = async (t: Test, res: Awaited<ReturnType<typeof get>>) => {
    expectError(t, res, 'GH_ERR_JWT_AUTH_JWKS_UNAVAILABLE', 503);
    t.equal(res.headers['www-authenticate'], undefined, 'no challenge: the token was not found wanting');
  };
  await t.test('nothing listening at the URL', async (t) => {
    const { url } = await jwtGateway(t, options(`http://127.0.0.1:${await deadPort()}/jwks`));
    await unavailable(t, await get(url, await token()));
  });
  const cases = [
    { desc: 'the URL answers 500', set: (s: { status: number }) => (s.status = 500) },
    { desc: 'the URL answers something that is not a key set', set: (s: { body?: string }) => (s.body = '{"keys": "nope"}') },
    { desc: 'the URL does not answer within jwksTimeoutMs', set: (s: { hang: boolean }) => (s.hang = true) },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const s = await jwksServer(t, [jwk(keys, 'rsa', 'a')]);
      c.set(s.state as any);
      const { gw, url } = await jwtGateway(t, options(s.url, { jwksTimeoutMs: 300, jwksCooldownMs: 0 }));
      await unavailable(t, await get(url, await token()));
      t.match(await gw.metrics.registry.metrics(), /gatehouse_jwt_auth_jwks_fetches_total\{outcome="error"[^}]*\} [1-9]/, 'counted');
    });
  }
  await t.test('the issuer goes away: the keys fetched before keep serving, an unknown kid is 503', async (t) => {
    const s = await jwksServer(t, [jwk(keys, 'rsa', 'a')]);
    // Keys stale at once, so every request tries the URL again while it is up.
    const { url } = await jwtGateway(t, options(s.url, { jwksCacheMaxAgeMs: 1, jwksCooldownMs: 0 }));
    t.equal((await get(url, await token())).status, 200, 'served while up');
    await s.close();
    t.equal((await get(url, await token())).status, 200, 'kid a: the stale key still verifies');
    await unavailable(t, await get(url, await token('new', keys.rsa2.privateKey)));
  });
  await t.test('with the issuer down, it is asked again at most once per cooldown', async (t) => {
    const s = await jwksServer(t, [jwk(keys, 'rsa', 'a')]);
    const { url } = await jwtGateway(t, options(s.url, { jwksCacheMaxAgeMs: 1, jwksCooldownMs: 60000 }));
    s.state.status = 500;
    for (let i = 0; i < 3; i++) t.equal((await get(url, await token())).status, 200, `request ${i + 1}: the stale key`);
    t.equal(s.state.fetches, 2, 'the start, then one failed refresh');
  });
});
