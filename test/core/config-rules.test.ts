import t from 'tap';
import { validateConfig } from '../../app';
import { GatehouseError } from '../../core/errors';
import { createGateway } from '../../app';
import { request } from '../helpers/servers';
import pino from 'pino';

/**
 * Config rules beyond types, in-process, one subtest per case: unique route names, and header
 * names and values that reach Node from plugin options (respond, region-routing, hash-rewrite),
 * which Node would refuse at request time (every request on the route answered with nothing).
 */

interface Case {
  desc: string;
  config: Record<string, unknown>;
  /** Fragments expected in the one GH_ERR_CONFIG_INVALID message; none: the config is valid. */
  errors?: (string | RegExp)[];
}

const respond = (options: Record<string, unknown>) => ({ routes: [{ plugins: [{ respond: options }] }] });
const named = (...names: (string | undefined)[]) => ({
  routes: names.map((name) => ({ ...(name === undefined ? {} : { name }), plugins: [{ respond: {} }] })),
});
const region = (header: string) => ({
  upstreams: { eu: { targets: ['http://127.0.0.1:3001'] } },
  routes: [
    {
      plugins: [
        {
          'region-routing': {
            mode: 'route',
            header,
            upstreams: { eu: 'eu' },
            regions: {
              eu: { publicIps: ['10.0.0.0/8'], servers: [{ ip: '10.0.0.1', name: 'smt', registryName: 'reg', fingerprint: 'AB:CD' }] },
            },
          },
        },
      ],
    },
  ],
});
const accel = (accelPrefix: string) => ({
  routes: [{ plugins: [{ 'hash-rewrite': { metadata: 'http://127.0.0.1:8121', mode: 'x-accel', accelPrefix } }] }],
});

const cases: Case[] = [
  // Route names key metrics and logs.
  {
    desc: 'two routes named alike',
    config: named('api', 'web', 'api'),
    errors: ['/routes/2/name: route name "api" is already used by /routes/0/name'],
  },
  {
    desc: 'a name equal to the default name of an earlier route',
    config: named(undefined, 'route-0'),
    errors: ['/routes/1/name: route name "route-0" is already used by /routes/0 (unnamed routes are called route-<index>)'],
  },
  {
    desc: 'a default name taken by an earlier explicit name',
    config: named('route-1', undefined),
    errors: ['/routes/1: this route\'s default name "route-1" is already used by /routes/0/name; give this route a name of its own'],
  },
  {
    desc: 'every duplicate reported, each naming the first',
    config: named('a', 'a', 'a'),
    errors: [
      '2 error(s)',
      '/routes/1/name: route name "a" is already used by /routes/0/name',
      '/routes/2/name: route name "a" is already used by /routes/0/name',
    ],
  },
  { desc: 'distinct names and defaults are fine', config: named('api', undefined, 'route-5') },
  // respond: what Node accepts in writeHead.
  {
    desc: 'respond: CRLF in a header value',
    config: respond({ headers: { 'x-a': 'ok\r\nset-cookie: evil=1' } }),
    errors: ['/routes/0/plugins/0/respond/headers/x-a: found "ok\\r\\nset-cookie: evil=1": a header value may hold', 'no CR, LF, NUL'],
  },
  {
    desc: 'respond: a bare LF in a header value',
    config: respond({ headers: { 'x-a': 'a\nb' } }),
    errors: ['/respond/headers/x-a: found "a\\nb"'],
  },
  {
    desc: 'respond: NUL in a header value',
    config: respond({ headers: { 'x-a': 'a\u0000b' } }),
    errors: ['/respond/headers/x-a: found "a\\u0000b"'],
  },
  {
    desc: 'respond: DEL in a header value',
    config: respond({ headers: { 'x-a': 'a\u007fb' } }),
    errors: ['/respond/headers/x-a: found "a\u007fb"'],
  },
  {
    desc: 'respond: a character above U+00FF in a header value',
    config: respond({ headers: { 'x-a': '5 €' } }),
    errors: ['/respond/headers/x-a: found "5 €"'],
  },
  {
    desc: 'respond: a space in a header name',
    config: respond({ headers: { 'x a': '1' } }),
    errors: ['/routes/0/plugins/0/respond/headers: found "x a": a header name is a token'],
  },
  {
    desc: 'respond: a colon in a header name',
    config: respond({ headers: { 'x:a': '1' } }),
    errors: ['found "x:a": a header name is a token'],
  },
  { desc: 'respond: an empty header name', config: respond({ headers: { '': '1' } }), errors: ['found "": a header name is a token'] },
  {
    desc: "respond: content-length is Node's",
    config: respond({ body: 'OK', headers: { 'Content-Length': '5' } }),
    errors: ['found "Content-Length"', 'not one of content-length, transfer-encoding'],
  },
  {
    desc: "respond: transfer-encoding is Node's",
    config: respond({ headers: { 'transfer-encoding': 'chunked' } }),
    errors: ['found "transfer-encoding"'],
  },
  { desc: "respond: connection is Node's", config: respond({ headers: { Connection: 'close' } }), errors: ['found "Connection"'] },
  {
    desc: 'respond: a 1xx cannot be a final answer',
    config: respond({ status: 101 }),
    errors: ['/respond/status: found 101, expected it to be >= 200'],
  },
  { desc: 'respond: status 600', config: respond({ status: 600 }), errors: ['/respond/status: found 600, expected it to be <= 599'] },
  {
    desc: 'respond: 204 with a body',
    config: respond({ status: 204, body: 'x' }),
    errors: ['/respond/body: found "x": statuses 204, 205, 304 carry no body'],
  },
  {
    desc: 'respond: 304 with json',
    config: respond({ status: 304, json: { a: 1 } }),
    errors: ['statuses 204, 205, 304 carry no body; remove json'],
  },
  {
    desc: 'respond: tab, Latin-1 and odd tokens are fine',
    config: respond({ status: 204, headers: { "x-!#$%&'*+.^_`|~": 'caf\u00e9\tok', 'Cache-Control': 'no-store' } }),
  },
  // region-routing sets a request header named by the config.
  {
    desc: 'region-routing: a header name with a space',
    config: region('x region'),
    errors: ['/region-routing/header: found "x region": a header name is a token'],
  },
  {
    desc: 'region-routing: header host would replace Host',
    config: region('Host'),
    errors: ['/region-routing/header: found "Host"', 'not host or one of content-length'],
  },
  {
    desc: 'region-routing: header content-length would reframe the request',
    config: region('content-length'),
    errors: ['found "content-length"'],
  },
  { desc: 'region-routing: a token header is fine', config: region('x-region') },
  // hash-rewrite x-accel mode writes accelPrefix into X-Accel-Redirect.
  {
    desc: 'hash-rewrite: accelPrefix with CRLF',
    config: accel('/a\r\nx-evil: 1'),
    errors: ['/hash-rewrite/accelPrefix: found "/a\\r\\nx-evil: 1": an absolute path of visible ASCII'],
  },
  { desc: 'hash-rewrite: accelPrefix with NUL', config: accel('/a\u0000'), errors: ['/hash-rewrite/accelPrefix: found "/a\\u0000"'] },
  {
    desc: 'hash-rewrite: accelPrefix with a non-ASCII letter',
    config: accel('/archivé'),
    errors: ['/hash-rewrite/accelPrefix: found "/archivé"'],
  },
  { desc: 'hash-rewrite: a percent-encoded accelPrefix is fine', config: accel('/archiv%C3%A9_accel') },
];

t.test('config rules, in-process', async (t) => {
  for (const c of cases) {
    t.test(c.desc, async (t) => {
      let err: unknown;
      try {
        validateConfig(c.config);
      } catch (e) {
        err = e;
      }
      if (!c.errors) {
        t.equal(err, undefined, `valid${err ? `: ${(err as Error).message}` : ''}`);
        return;
      }
      t.type(err, GatehouseError);
      t.equal((err as GatehouseError).code, 'GH_ERR_CONFIG_INVALID');
      for (const f of c.errors) t.match((err as Error).message, f);
    });
  }
});

t.test('respond: the headers the schema lets through are sent as written', async (t) => {
  const gw = await createGateway({
    logger: pino({ level: 'silent' }),
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      routes: [{ plugins: [{ respond: { body: 'ok', headers: { 'X-Caf': 'caf\u00e9\tok', "x-!#$%&'*+.^_`|~": '1' } } }] }],
    },
  });
  await gw.listen();
  t.teardown(() => gw.close(0));
  const res = await request(`http://127.0.0.1:${gw.addresses.http!.port}/`);
  t.equal(res.status, 200);
  t.equal(res.body, 'ok');
  t.equal(res.headers['x-caf'], 'caf\u00e9\tok', 'Latin-1 and a tab arrive as written');
  t.equal(res.headers["x-!#$%&'*+.^_`|~"], '1');
});

t.test('timeouts.headers may not exceed timeouts.request (Node would not hold the request timeout)', async (t) => {
  const cases: { desc: string; timeouts: Record<string, number>; refused?: RegExp }[] = [
    {
      desc: 'request below the default headers timeout',
      timeouts: { request: 10000 },
      refused: /\/server\/timeouts\/headers: timeouts\.headers \(20000\) must not exceed timeouts\.request \(10000\)/,
    },
    {
      desc: 'headers above request',
      timeouts: { headers: 1500, request: 1000 },
      refused: /\/server\/timeouts\/headers: timeouts\.headers \(1500\) must not exceed/,
    },
    { desc: 'equal', timeouts: { headers: 1000, request: 1000 } },
    { desc: 'request 0 (none)', timeouts: { headers: 30000, request: 0 } },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const make = () => validateConfig({ server: { timeouts: c.timeouts }, routes: [{ plugins: [{ respond: {} }] }] });
      if (c.refused) t.throws(make, { code: 'GH_ERR_CONFIG_INVALID', message: c.refused });
      else t.doesNotThrow(make);
    });
  }
});
