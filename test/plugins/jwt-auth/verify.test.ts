import t from 'tap';
import { expectError } from '../../helpers/errors';
import { request } from '../../helpers/servers';
import { AUDIENCE, ISSUER, jwtGateway, keyDir, makeKeys, now, SECRET, sign, unsigned, type Keys } from './harness';

const HS = { algorithms: ['HS512'], secret: SECRET, audience: AUDIENCE, issuer: ISSUER, leeway: 30 };

interface Case {
  desc: string;
  options?: Record<string, unknown>;
  /** Headers of the request, built from the keys; `path` defaults to /api/x. */
  send: (k: Keys) => Promise<Record<string, string>>;
  path?: string;
  method?: string;
  /** 200: forwarded; else the error code and its status. */
  want: 200 | { code: string; status: number; error?: 'invalid_token' | 'invalid_request'; about?: RegExp };
}

const bearer = async (token: Promise<string>) => ({ authorization: `Bearer ${await token}` });
const invalid = (about: RegExp) => ({ code: 'GH_ERR_JWT_AUTH_INVALID', status: 401, error: 'invalid_token' as const, about });
const missing = { code: 'GH_ERR_JWT_AUTH_MISSING', status: 401 };
const rs = (alg: string, file = 'rsa.pem') => ({ algorithms: [alg], publicKey: { file }, audience: AUDIENCE });

const cases: Case[] = [
  { desc: 'a valid HS512 token as Bearer', send: () => bearer(sign()), want: 200 },
  { desc: 'a valid token sent raw in Authorization (as SG clients do)', send: async () => ({ authorization: await sign() }), want: 200 },
  { desc: 'a Bearer scheme in any letter case', send: async () => ({ authorization: `bEaReR ${await sign()}` }), want: 200 },
  { desc: 'expired beyond the leeway', send: () => bearer(sign({ exp: now() - 60 })), want: invalid(/expired/) },
  { desc: 'expired within the leeway passes', send: () => bearer(sign({ exp: now() - 10 })), want: 200 },
  { desc: 'nbf in the future (beyond the leeway)', send: () => bearer(sign({ nbf: now() + 120 })), want: invalid(/not valid yet/) },
  { desc: 'nbf within the leeway passes', send: () => bearer(sign({ nbf: now() + 10 })), want: 200 },
  { desc: 'a wrong audience', send: () => bearer(sign({ aud: 'other' })), want: invalid(/audience/) },
  { desc: 'one of several audiences of the token', send: () => bearer(sign({ aud: ['other', AUDIENCE] })), want: 200 },
  { desc: 'a wrong issuer', send: () => bearer(sign({ iss: 'https://evil.test' })), want: invalid(/issuer/) },
  {
    desc: 'an issuer of a configured list',
    options: { ...HS, issuer: ['https://a.test', ISSUER] },
    send: () => bearer(sign()),
    want: 200,
  },
  { desc: 'signed with another secret', send: () => bearer(sign({}, { key: `${SECRET}-not` })), want: invalid(/signature/) },
  {
    desc: 'an algorithm not in the list (HS256 with the right secret)',
    send: () => bearer(sign({}, { alg: 'HS256' })),
    want: invalid(/accepted algorithm \(HS512\)/),
  },
  {
    desc: 'a required claim missing',
    options: { ...HS, requiredClaims: ['sub', 'tenant'] },
    send: () => bearer(sign()),
    want: invalid(/lacks the "tenant" claim/),
  },
  {
    desc: 'required claims present',
    options: { ...HS, requiredClaims: ['sub', 'tenant'] },
    send: () => bearer(sign({ tenant: 't1' })),
    want: 200,
  },
  { desc: 'alg none', send: async () => ({ authorization: `Bearer ${unsigned()}` }), want: invalid(/accepted algorithm/) },
  { desc: 'a token that is not a JWT', send: async () => ({ authorization: 'Bearer abc.def' }), want: invalid(/malformed/) },
  {
    desc: 'maxAge: issued too long ago, though not expired',
    options: { ...HS, maxAge: 60 },
    send: () => bearer(sign({ iat: now() - 120 })),
    want: invalid(/older than maxAge/),
  },
  { desc: 'maxAge: recent enough', options: { ...HS, maxAge: 60 }, send: () => bearer(sign()), want: 200 },
  { desc: 'no token', send: async () => ({}), want: missing },
  { desc: 'another scheme (Basic) is no token', send: async () => ({ authorization: 'Basic dXNlcjpwYXNz' }), want: missing },
  {
    desc: 'authorization: bearer refuses a raw token',
    options: { ...HS, from: { authorization: 'bearer' } },
    send: async () => ({ authorization: await sign() }),
    want: missing,
  },
  { desc: 'the secret from a file', options: { ...HS, secret: { file: 'secret.txt' } }, send: () => bearer(sign()), want: 200 },
  {
    desc: 'a base64 secret',
    options: { ...HS, secret: Buffer.from(SECRET).toString('base64'), secretEncoding: 'base64' },
    send: () => bearer(sign()),
    want: 200,
  },
  // Algorithm confusion: the RSA public key's PEM text used as an HMAC secret.
  {
    desc: 'HS256 signed with the RSA public key PEM, against RS256 + publicKey',
    options: rs('RS256'),
    send: (k) => bearer(sign({}, { alg: 'HS256', key: k.rsa.pem })),
    want: invalid(/accepted algorithm \(RS256\)/),
  },
  { desc: 'RS256 valid', options: rs('RS256'), send: (k) => bearer(sign({}, { alg: 'RS256', key: k.rsa.privateKey })), want: 200 },
  {
    desc: 'RS512 signed by a key that is not configured',
    options: rs('RS512'),
    send: (k) => bearer(sign({}, { alg: 'RS512', key: k.rsa2.privateKey })),
    want: invalid(/signature/),
  },
  {
    desc: 'RS256 by the second key of a file holding two',
    options: rs('RS256', 'both.pem'),
    send: (k) => bearer(sign({}, { alg: 'RS256', key: k.rsa.privateKey })),
    want: 200,
  },
  {
    desc: 'a list of key files',
    options: { ...rs('RS256'), publicKey: [{ file: 'rsa2.pem' }, { file: 'rsa.pem' }] },
    send: (k) => bearer(sign({}, { alg: 'RS256', key: k.rsa.privateKey })),
    want: 200,
  },
  {
    desc: 'an inline PEM',
    options: { ...rs('RS256'), publicKey: '${PEM}' },
    send: (k) => bearer(sign({}, { alg: 'RS256', key: k.rsa.privateKey })),
    want: 200,
  },
  { desc: 'PS256 valid', options: rs('PS256'), send: (k) => bearer(sign({}, { alg: 'PS256', key: k.rsa.privateKey })), want: 200 },
  {
    desc: 'RS256 with a key configured for PS256 only',
    options: rs('PS256'),
    send: (k) => bearer(sign({}, { alg: 'RS256', key: k.rsa.privateKey })),
    want: invalid(/accepted algorithm \(PS256\)/),
  },
  {
    desc: 'ES256 valid',
    options: rs('ES256', 'ec.pem'),
    send: (k) => bearer(sign({}, { alg: 'ES256', key: k.ec.privateKey })),
    want: 200,
  },
  {
    desc: 'EdDSA valid',
    options: rs('EdDSA', 'ed.pem'),
    send: (k) => bearer(sign({}, { alg: 'EdDSA', key: k.ed.privateKey })),
    want: 200,
  },
  {
    desc: 'RS256 and ES256 listed, each key used for its own',
    options: { algorithms: ['RS256', 'ES256'], publicKey: [{ file: 'rsa.pem' }, { file: 'ec.pem' }], audience: AUDIENCE },
    send: (k) => bearer(sign({}, { alg: 'ES256', key: k.ec.privateKey })),
    want: 200,
  },
  {
    desc: 'the token in a cookie',
    options: { ...HS, from: { cookie: 'session' } },
    send: async () => ({ cookie: `theme=dark; session=${await sign()}; other=1` }),
    want: 200,
  },
  {
    desc: 'the token in a query parameter',
    options: { ...HS, from: { query: 'access_token' } },
    path: '/api/x?access_token=TOKEN',
    send: async () => ({}),
    want: 200,
  },
  {
    desc: 'the token in a custom header',
    options: { ...HS, from: { header: 'X-Auth-Token' } },
    send: async () => ({ 'x-auth-token': await sign() }),
    want: 200,
  },
  {
    desc: 'a cookie source still reads Authorization',
    options: { ...HS, from: { cookie: 'session' } },
    send: () => bearer(sign()),
    want: 200,
  },
  {
    desc: 'the same token in two places is one token',
    options: { ...HS, from: { cookie: 'session' } },
    send: async () => {
      const token = await sign();
      return { authorization: `Bearer ${token}`, cookie: `session=${token}` };
    },
    want: 200,
  },
  {
    desc: 'different tokens in two places',
    options: { ...HS, from: { cookie: 'session' } },
    send: async () => ({ authorization: `Bearer ${await sign()}`, cookie: `session=${await sign({ sub: 'user-2' })}` }),
    want: {
      code: 'GH_ERR_JWT_AUTH_AMBIGUOUS',
      status: 400,
      error: 'invalid_request',
      about: /Authorization header and the session cookie/,
    },
  },
  {
    desc: 'a repeated query parameter',
    options: { ...HS, from: { query: 'access_token' } },
    path: '/api/x?access_token=TOKEN&access_token=TOKEN',
    send: async () => ({}),
    want: { code: 'GH_ERR_JWT_AUTH_AMBIGUOUS', status: 400, error: 'invalid_request' },
  },
  {
    desc: 'authorization: ignore does not read the header',
    options: { ...HS, from: { authorization: 'ignore', cookie: 'session' } },
    send: () => bearer(sign()),
    want: missing,
  },
  {
    desc: 'an except rule passes without a token',
    options: { ...HS, except: [{ path: '/annotator/status' }] },
    path: '/annotator/status',
    send: async () => ({}),
    want: 200,
  },
  {
    desc: 'an except prefix covers the paths below it',
    options: { ...HS, except: [{ path: '/annotator/status' }] },
    path: '/annotator/status/42',
    send: async () => ({}),
    want: 200,
  },
  {
    desc: 'an except prefix does not cover a longer name',
    options: { ...HS, except: [{ path: '/annotator/status' }] },
    path: '/annotator/statusx',
    send: async () => ({}),
    want: missing,
  },
  {
    desc: 'an except rule is for its methods only',
    options: { ...HS, except: [{ path: '/', methods: ['OPTIONS'] }] },
    send: async () => ({}),
    want: missing,
  },
  {
    desc: 'an except rule with its method',
    options: { ...HS, except: [{ path: '/', methods: ['OPTIONS'] }] },
    method: 'OPTIONS',
    send: async () => ({}),
    want: 200,
  },
  {
    desc: 'an except rule is matched after normalisation (dot segments)',
    options: { ...HS, except: [{ path: '/public' }] },
    path: '/public/../api/x',
    send: async () => ({}),
    want: missing,
  },
  {
    desc: 'a ;parameter does not widen an exact except rule',
    options: { ...HS, except: [{ pathExact: '/health' }] },
    path: '/health;jsessionid=1',
    send: async () => ({}),
    want: missing,
  },
  {
    desc: 'an except regex',
    options: { ...HS, except: [{ pathRegex: '^/docs/[a-z]+\\.html$' }] },
    path: '/docs/index.html',
    send: async () => ({}),
    want: 200,
  },
];

t.test('jwt-auth verifies tokens through a real gateway and backend', async (t) => {
  const keys = await makeKeys();
  const dir = keyDir(t, keys);
  process.env.PEM = keys.rsa.pem;
  t.teardown(() => delete process.env.PEM);
  // Cases with the same options share one gateway (created under the parent test, which closes it).
  const gateways = new Map<string, Promise<{ url: string }>>();
  const gatewayFor = (options: Record<string, unknown>) => {
    const key = JSON.stringify(options);
    if (!gateways.has(key)) gateways.set(key, jwtGateway(t, options, { dir }));
    return gateways.get(key)!;
  };
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const { url } = await gatewayFor(c.options ?? HS);
      const headers = await c.send(keys);
      let path = c.path ?? '/api/x';
      if (path.includes('TOKEN')) path = path.replace(/TOKEN/g, await sign());
      const res = await request(`${url}${path}`, { method: c.method ?? 'GET', headers });
      if (c.want === 200) {
        t.equal(res.status, 200, 'forwarded', { body: res.body });
        t.equal(res.headers['x-backend'], 'echo', 'by the backend');
        return;
      }
      const body = expectError(t, res, c.want.code, c.want.status);
      if (c.want.about) t.match(body.error.message, c.want.about, 'the message says why');
      const challenge = res.headers['www-authenticate'];
      if (c.want.error) {
        t.match(
          challenge,
          new RegExp(`^Bearer realm="gatehouse", error="${c.want.error}", error_description="[^"\\\\]+"$`),
          'RFC 6750 challenge',
        );
      } else t.equal(challenge, 'Bearer realm="gatehouse"', 'no error code when no token was sent (RFC 6750 §3.1)');
    });
  }
});
