import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../../app';
import { tempDir } from '../../helpers/gatehouse-process';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed448 = generateKeyPairSync('ed448');
const spki = (k: { publicKey: { export(o: object): string | Buffer } }) => String(k.publicKey.export({ type: 'spki', format: 'pem' }));

/** Load a config whose one route declares jwt-auth with `options`; resolves to the problems text ('' when valid). */
async function problems(t: { teardown(fn: () => void): void }, options: Record<string, unknown>): Promise<string> {
  const dir = tempDir(t, 'jwt-validate-');
  writeFileSync(join(dir, 'rsa.pem'), spki(rsa));
  writeFileSync(join(dir, 'small.pem'), spki(small));
  writeFileSync(join(dir, 'ec384.pem'), spki(ec384));
  writeFileSync(join(dir, 'ed448.pem'), spki(ed448));
  writeFileSync(join(dir, 'private.pem'), String(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' })));
  writeFileSync(join(dir, 'garbage.pem'), '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n');
  writeFileSync(join(dir, 'empty.txt'), '\n');
  const file = join(dir, 'gatehouse.json');
  writeFileSync(
    file,
    JSON.stringify({
      upstreams: { be: { targets: ['http://127.0.0.1:9'] } },
      routes: [{ match: { path: '/' }, upstream: 'be', plugins: [{ 'jwt-auth': options }] }],
    }),
  );
  return loadConfig(file, { env: { SECRET: 's3cret' } }).then(
    () => '',
    (e: Error & { code: string }) => `${e.code}: ${e.message}`,
  );
}

const AT = '/routes/0/plugins/0/jwt-auth';
const hs = { algorithms: ['HS256'], secret: 'x' };
const pem = (file: string, algorithms = ['RS256']) => ({ algorithms, publicKey: { file } });

const cases: { desc: string; options: Record<string, unknown>; want?: RegExp }[] = [
  {
    desc: 'HS512 with a secret from the environment',
    options: { algorithms: ['HS512'], secret: '${SECRET}', audience: 'vesta', leeway: 30 },
  },
  { desc: 'RS256 with a PEM file', options: pem('rsa.pem') },
  { desc: 'ES384 with its curve', options: pem('ec384.pem', ['ES384']) },
  { desc: 'a JWKS URL', options: { algorithms: ['RS256', 'ES256', 'EdDSA'], jwksUrl: 'https://idp.example/.well-known/jwks.json' } },
  { desc: 'no algorithms', options: { secret: 'x' }, want: new RegExp(`${AT}: missing required key "algorithms"`) },
  { desc: 'an empty algorithm list', options: { algorithms: [], secret: 'x' }, want: new RegExp(`${AT}/algorithms: .*fewer than 1`) },
  {
    desc: 'alg none',
    options: { algorithms: ['HS256', 'none'], secret: 'x' },
    want: new RegExp(`${AT}/algorithms/1: found "none": .*"none" is never accepted`),
  },
  { desc: 'an unknown algorithm', options: { algorithms: ['HS1'], secret: 'x' }, want: new RegExp(`${AT}/algorithms/0: found "HS1"`) },
  { desc: 'an unknown option', options: { ...hs, audiance: 'x' }, want: /unknown key "audiance"; did you mean "audience"/ },
  { desc: 'no key source', options: { algorithms: ['HS256'] }, want: new RegExp(`${AT}: no key to verify tokens with`) },
  {
    desc: 'two key sources',
    options: { algorithms: ['RS256'], publicKey: { file: 'rsa.pem' }, jwksUrl: 'https://idp.example/jwks' },
    want: new RegExp(`${AT}/jwksUrl: give exactly one of secret, publicKey, jwksUrl; found publicKey and jwksUrl`),
  },
  {
    desc: 'HS256 beside a public key (algorithm confusion)',
    options: { algorithms: ['RS256', 'HS256'], publicKey: { file: 'rsa.pem' } },
    want: new RegExp(`${AT}/algorithms/1: HS256 is verified with a shared secret.*algorithm confusion`),
  },
  {
    desc: 'HS256 beside a JWKS URL',
    options: { algorithms: ['HS256'], jwksUrl: 'https://idp.example/jwks' },
    want: new RegExp(`${AT}/algorithms/0: HS256 is verified with a shared secret`),
  },
  {
    desc: 'RS256 with a secret',
    options: { algorithms: ['RS256'], secret: 'x' },
    want: new RegExp(`${AT}/algorithms/0: RS256 needs publicKey or jwksUrl`),
  },
  {
    desc: 'a secret file that does not exist',
    options: { ...hs, secret: { file: 'nope.txt' } },
    want: new RegExp(`${AT}/secret: .*nope.txt cannot be read: ENOENT`),
  },
  {
    desc: 'an empty secret file',
    options: { ...hs, secret: { file: 'empty.txt' } },
    want: new RegExp(`${AT}/secret: .*empty.txt: the secret is empty`),
  },
  {
    desc: 'a secret that is not base64',
    options: { ...hs, secret: 'not base64!', secretEncoding: 'base64' },
    want: new RegExp(`${AT}/secret: secret: the secret is not base64`),
  },
  {
    desc: 'a PEM file that does not exist',
    options: pem('nope.pem'),
    want: new RegExp(`${AT}/publicKey: .*nope.pem cannot be read: ENOENT`),
  },
  { desc: 'a file that is not PEM', options: pem('empty.txt'), want: new RegExp(`${AT}/publicKey: .*empty.txt holds no PEM block`) },
  {
    desc: 'a PEM block that is no key',
    options: pem('garbage.pem'),
    want: new RegExp(`${AT}/publicKey: .*garbage.pem is not a PEM public key`),
  },
  { desc: 'a private key', options: pem('private.pem'), want: new RegExp(`${AT}/publicKey: .*private.pem is a private key`) },
  {
    desc: 'an RSA key under 2048 bits',
    options: pem('small.pem'),
    want: new RegExp(`${AT}/publicKey: .*small.pem is an RSA key of 1024 bits`),
  },
  {
    desc: 'a key that fits none of the algorithms',
    options: pem('ec384.pem', ['ES256']),
    want: new RegExp(
      `${AT}/publicKey: .*ec384.pem is an ec \\(secp384r1\\) key, which none of the algorithms \\(ES256\\) uses; it verifies ES384`,
    ),
  },
  {
    desc: 'an Ed448 key',
    options: pem('ed448.pem', ['EdDSA']),
    want: /ed448.pem is an ed448 key, .*gatehouse verifies no algorithm with it/,
  },
  {
    desc: 'a listed algorithm no key verifies',
    options: { algorithms: ['RS256', 'ES256'], publicKey: [{ file: 'rsa.pem' }] },
    want: new RegExp(`${AT}/algorithms/1: no publicKey verifies ES256`),
  },
  {
    desc: 'the second file of a list is bad',
    options: { algorithms: ['RS256'], publicKey: [{ file: 'rsa.pem' }, { file: 'nope.pem' }] },
    want: new RegExp(`${AT}/publicKey/1: .*nope.pem cannot be read`),
  },
  {
    desc: 'a JWKS URL that is not http(s)',
    options: { algorithms: ['RS256'], jwksUrl: 'ftp://idp/jwks' },
    want: new RegExp(`${AT}/jwksUrl`),
  },
  {
    desc: 'a JWKS URL with credentials',
    options: { algorithms: ['RS256'], jwksUrl: 'https://u:p@idp.example/jwks' },
    want: new RegExp(`${AT}/jwksUrl: a URL with credentials`),
  },
  { desc: 'a negative leeway', options: { ...hs, leeway: -1 }, want: new RegExp(`${AT}/leeway`) },
  {
    desc: 'an except rule with two path tests',
    options: { ...hs, except: [{ path: '/a', pathRegex: 'b' }] },
    want: new RegExp(`${AT}/except/0: a rule takes exactly one of path, pathExact, pathRegex; found path and pathRegex`),
  },
  {
    desc: 'an except rule with no path test',
    options: { ...hs, except: [{ methods: ['GET'] }] },
    want: new RegExp(`${AT}/except/0: a rule takes exactly one`),
  },
  {
    desc: 'an except regex that does not compile',
    options: { ...hs, except: [{ pathRegex: '(' }] },
    want: new RegExp(`${AT}/except/0/pathRegex`),
  },
  { desc: 'an except path not starting with /', options: { ...hs, except: [{ path: 'api' }] }, want: new RegExp(`${AT}/except/0/path`) },
  {
    desc: 'a claim forwarded in Host',
    options: { ...hs, forwardClaims: { sub: 'Host' } },
    want: new RegExp(`${AT}/forwardClaims/sub: found "Host": a header name is a token`),
  },
  {
    desc: 'a claim forwarded in a header name with a space',
    options: { ...hs, forwardClaims: { sub: 'X User' } },
    want: new RegExp(`${AT}/forwardClaims/sub`),
  },
  {
    desc: 'two claims forwarded in one header',
    options: { ...hs, forwardClaims: { sub: 'X-User', email: 'x_user' } },
    want: new RegExp(`${AT}/forwardClaims/email: x_user is the header X-User already carrying the claim "sub"`),
  },
  {
    desc: 'a claim forwarded in the header the token is read from',
    options: { ...hs, from: { header: 'X-Token' }, forwardClaims: { sub: 'x-token' } },
    want: new RegExp(`${AT}/forwardClaims/sub: x-token is where from.header reads the token`),
  },
  {
    desc: 'from.header Authorization',
    options: { ...hs, from: { header: 'authorization' } },
    want: new RegExp(`${AT}/from/header: the Authorization header is read by from.authorization`),
  },
  {
    desc: 'the token read nowhere',
    options: { ...hs, from: { authorization: 'ignore' } },
    want: new RegExp(`${AT}/from: the token is read nowhere`),
  },
  {
    desc: 'an unknown from mode',
    options: { ...hs, from: { authorization: 'raw' } },
    want: new RegExp(`${AT}/from/authorization: found "raw"`),
  },
  { desc: 'a realm with a quote', options: { ...hs, realm: 'a"b' }, want: new RegExp(`${AT}/realm`) },
];
for (const c of cases) {
  t.test(c.desc, async (t) => {
    const got = await problems(t, c.options);
    if (c.want) {
      t.match(got, /^GH_ERR_CONFIG_INVALID/);
      t.match(got, c.want);
    } else t.equal(got, '', 'valid');
  });
}
