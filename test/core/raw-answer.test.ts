import t from 'tap';
import { GatehouseError, rawJsonAnswer } from '../../core/errors';

/** rawJsonAnswer: the answer written on an upgrade socket, with a plugin's headers (a WWW-Authenticate challenge). */
const cases: { desc: string; headers?: Record<string, string>; has: RegExp[]; hasNot: RegExp[] }[] = [
  {
    desc: 'no headers: the plain answer',
    has: [/^HTTP\/1\.1 401 Unauthorized\r\n/, /\r\nconnection: close\r\n\r\n\{/],
    hasNot: [/www-authenticate/i],
  },
  {
    desc: 'a header is written in the head, before the blank line',
    headers: { 'www-authenticate': 'Bearer realm="api"' },
    has: [/\r\nwww-authenticate: Bearer realm="api"\r\n[^]*\r\n\r\n\{/],
    hasNot: [],
  },
  {
    desc: 'a value with CR/LF is left out (no header injection)',
    headers: { 'x-a': 'ok', 'x-b': 'bad\r\nset-cookie: evil=1' },
    has: [/\r\nx-a: ok\r\n/],
    hasNot: [/set-cookie/i, /x-b/],
  },
  { desc: 'an invalid header name is left out', headers: { 'bad name': 'v' }, has: [/^HTTP\/1\.1 401 /], hasNot: [/bad name/] },
];

for (const c of cases) {
  t.test(c.desc, async (t) => {
    const text = rawJsonAnswer(new GatehouseError('GH_ERR_X_DENIED', 'no', { status: 401 }), c.headers);
    for (const re of c.has) t.match(text, re);
    for (const re of c.hasNot) t.notMatch(text, re);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    t.equal(Number(/content-length: (\d+)/.exec(text)![1]), Buffer.byteLength(body), 'content-length matches the body');
    t.same(JSON.parse(body), { error: { code: 'GH_ERR_X_DENIED', status: 401, message: 'no' } });
  });
}
