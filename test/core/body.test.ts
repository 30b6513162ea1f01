import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { stateKey } from '../../app';
import { RequestContext } from '../../core/pipeline/request-context';
import { expectError } from '../helpers/errors';
import { tempDir } from '../helpers/gatehouse-process';
import { raw, request, startBackend, startGateway } from '../helpers/servers';

/** A plugin that reads the body as its options say, then answers with what it read or forwards. */
const READER = `
module.exports = {
  name: 'body-reader',
  schema: { type: 'object' },
  create(o) {
    return {
      async handle(ctx, next) {
        const opts = o.limit === undefined ? undefined : { limit: o.limit };
        const got = o.as === 'json' ? await ctx.readJson(opts) : o.as === 'form' ? Object.fromEntries(await ctx.readForm(opts)) : (await ctx.readBody(opts)).toString('latin1');
        if (o.then === 'forward') return next();
        ctx.json(200, { got });
      },
    };
  },
};
`;

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string };

/** POST with a body, chunked when asked (no Content-Length), on a fresh connection. */
function post(url: string, text: string, headers: http.OutgoingHttpHeaders = {}, chunked = false): Promise<Answer> {
  const body = Buffer.from(text, 'latin1');
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent: false, headers: chunked ? headers : { 'content-length': body.length, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    if (chunked) for (let i = 0; i < body.length; i += 1000) req.write(body.subarray(i, i + 1000));
    req.end(chunked ? undefined : body);
  });
}

t.test('ctx.readBody, readJson and readForm', async (t) => {
  const dir = tempDir(t);
  const plugin = join(dir, 'body-reader.js');
  writeFileSync(plugin, READER);
  const be = await startBackend(t);
  const route = (path: string, options: Record<string, unknown>) => ({ match: { path }, upstream: 'be', plugins: [{ [plugin]: options }] });
  const { url } = await startGateway(t, {
    upstreams: { be: { targets: [be.url] } },
    routes: [
      route('/raw', {}),
      route('/small', { limit: 10 }),
      route('/json', { as: 'json' }),
      route('/form', { as: 'form' }),
      route('/forward', { then: 'forward' }),
    ],
  });
  const big = 'x'.repeat(5000);
  const cases: {
    desc: string;
    path: string;
    body: string;
    type?: string;
    chunked?: boolean;
    status: number;
    got?: unknown;
    code?: string;
    closes?: boolean;
    upstreamBody?: string;
  }[] = [
    { desc: 'a body is read whole', path: '/raw', body: 'hello world', status: 200, got: 'hello world' },
    { desc: 'a chunked body is read whole', path: '/raw', body: big, chunked: true, status: 200, got: big },
    { desc: 'binary bytes survive', path: '/raw', body: '\u0000\u00ff\u0080', status: 200, got: '\u0000\u00ff\u0080' },
    { desc: 'an empty body', path: '/raw', body: '', status: 200, got: '' },
    { desc: 'exactly the limit is accepted', path: '/small', body: '0123456789', status: 200, got: '0123456789' },
    {
      desc: 'a Content-Length over the limit is refused before reading',
      path: '/small',
      body: big,
      status: 413,
      code: 'GH_ERR_BODY_TOO_LARGE',
      closes: true,
    },
    {
      desc: 'a chunked body passing the limit is refused',
      path: '/small',
      body: big,
      chunked: true,
      status: 413,
      code: 'GH_ERR_BODY_TOO_LARGE',
      closes: true,
    },
    {
      desc: 'JSON is parsed',
      path: '/json',
      body: '{"a":[1,2]}',
      type: 'application/json; charset=utf-8',
      status: 200,
      got: { a: [1, 2] },
    },
    { desc: 'a +json type is JSON', path: '/json', body: '{"a":1}', type: 'application/vnd.api+json', status: 200, got: { a: 1 } },
    { desc: 'malformed JSON is a 400', path: '/json', body: '{"a":', type: 'application/json', status: 400, code: 'GH_ERR_BODY_INVALID' },
    {
      desc: 'JSON without a JSON type is a 415',
      path: '/json',
      body: '{"a":1}',
      type: 'text/plain',
      status: 415,
      code: 'GH_ERR_UNSUPPORTED_MEDIA_TYPE',
    },
    { desc: 'JSON without any type is a 415', path: '/json', body: '{"a":1}', status: 415, code: 'GH_ERR_UNSUPPORTED_MEDIA_TYPE' },
    {
      desc: 'a form is parsed',
      path: '/form',
      body: 'imei=300234010753370&data=48656c6c6f&note=a+b%21',
      type: 'application/x-www-form-urlencoded',
      status: 200,
      got: { imei: '300234010753370', data: '48656c6c6f', note: 'a b!' },
    },
    {
      desc: 'a form with a malformed escape is a 400',
      path: '/form',
      body: 'a=%zz',
      type: 'application/x-www-form-urlencoded',
      status: 400,
      code: 'GH_ERR_BODY_INVALID',
    },
    {
      desc: 'a form of another type is a 415',
      path: '/form',
      body: 'a=1',
      type: 'multipart/form-data; boundary=x',
      status: 415,
      code: 'GH_ERR_UNSUPPORTED_MEDIA_TYPE',
    },
    {
      desc: 'a body read by a plugin is still forwarded, with its length',
      path: '/forward',
      body: big,
      chunked: true,
      status: 200,
      upstreamBody: big,
    },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const res = await post(`${url}${c.path}`, c.body, c.type ? { 'content-type': c.type } : {}, c.chunked);
      t.equal(res.status, c.status, `status (${res.body.slice(0, 80)})`);
      if (c.got !== undefined) t.same(JSON.parse(res.body).got, c.got);
      if (c.code) expectError(t, res, c.code);
      if (c.closes) t.equal(res.headers.connection, 'close', 'the unread rest of the body cannot be taken for a request');
      if (c.upstreamBody !== undefined) {
        const seen = JSON.parse(res.body);
        t.equal(seen.body, c.upstreamBody, 'the upstream got the body');
        t.equal(seen.headers['content-length'], String(Buffer.byteLength(c.upstreamBody)), 'framed by its length');
        t.notOk(seen.headers['transfer-encoding'], 'not chunked any more');
      }
    });
  }

  await t.test('after a 413, bytes of the refused body never reach anyone as a request', async (t) => {
    const smuggled = `GET /raw HTTP/1.1\r\nHost: a\r\n\r\n`;
    const answer = await raw(
      Number(new URL(url).port),
      `POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: ${smuggled.length + 20}\r\n\r\n${'y'.repeat(20)}${smuggled}`,
    );
    t.equal((answer.match(/HTTP\/1\.1 \d{3}/g) ?? []).length, 1, 'one answer only');
    t.match(answer, /^HTTP\/1\.1 413/);
  });
  t.equal((await request(`${url}/raw`)).status, 200, 'the gateway serves on');
});

t.test('typed state keys', async (t) => {
  const ctx = new RequestContext({
    req: { headers: {} },
    res: undefined,
    socket: {},
    method: 'GET',
    path: '/',
    search: '',
    host: '',
    peerIp: '',
    clientIp: '',
    peerTrusted: false,
    secure: false,
    routeName: 'r',
    upstreamPath: '/',
    log: {},
    upstream: undefined,
    forward: () => Promise.resolve(),
  } as never);
  const USER = stateKey<{ sub: string }>('jwt-auth.user');
  const SAME_NAME = stateKey<number>('jwt-auth.user');
  const cases: { desc: string; check: (t: Test) => void }[] = [
    { desc: 'an unset key reads undefined', check: (t) => t.equal(ctx.get(USER), undefined) },
    {
      desc: 'a set key reads its value',
      check: (t) => {
        ctx.set(USER, { sub: 'a' });
        t.same(ctx.get(USER), { sub: 'a' });
      },
    },
    { desc: 'a key with the same name is another key', check: (t) => t.equal(ctx.get(SAME_NAME), undefined) },
    { desc: 'keys are frozen', check: (t) => t.ok(Object.isFrozen(USER)) },
    { desc: 'the name is kept for debugging', check: (t) => t.equal(USER.name, 'jwt-auth.user') },
  ];
  // In order: the second case sets the key the first reads unset.
  for (const c of cases) await t.test(c.desc, async (t) => c.check(t));
});

t.test('a body slower than server.timeouts.request is answered 408', async (t) => {
  const dir = tempDir(t);
  const plugin = join(dir, 'body-reader.js');
  writeFileSync(plugin, READER);
  const { port } = await startGateway(t, {
    server: { http: { port: 0, host: '127.0.0.1' }, timeouts: { headers: 1000, request: 1000 } },
    routes: [{ match: { path: '/' }, plugins: [{ [plugin]: {} }] }],
  });
  const started = Date.now();
  // Half the promised body, then silence.
  const answer = await raw(port, 'POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n' + 'x'.repeat(50), 4000);
  const ms = Date.now() - started;
  t.match(answer, /^HTTP\/1\.1 408 /, `408 (${JSON.stringify(answer.slice(0, 40))})`);
  expectError(t, answer, 'GH_ERR_REQUEST_TIMEOUT');
  t.ok(ms >= 900 && ms < 3000, `within the configured second, and a little (${ms} ms)`);
});
