import t from 'tap';
import { expectError } from '../helpers/errors';
import { request, startBackend, startGateway } from '../helpers/servers';

// Each route answers its own name, so the table checks matching without a backend.
const named = (name: string, match: Record<string, unknown>) => ({ name, match, plugins: [{ respond: { body: name } }] });

const routes = [
  named('exact-host', { host: 'api.example.com', path: '/v1' }),
  named('wildcard-host', { host: '*.example.com' }),
  named('exact-path', { pathExact: '/health' }),
  named('regex', { pathRegex: '^/items/\\d+$' }),
  named('post-only', { path: '/submit', methods: ['POST'] }),
  named('header', { path: '/h', headers: { 'x-env': 'canary' } }),
  named('header-regex', { path: '/h', headers: { 'x-env': { regex: '^blue|green$' } } }),
  named('prefix-slash', { path: '/static/' }),
  named('prefix', { path: '/api' }),
];

const cases: {
  desc: string;
  path: string;
  method?: string;
  host?: string;
  headers?: Record<string, string>;
  want: number;
  route?: string;
}[] = [
  { desc: 'exact host and prefix', path: '/v1/users', host: 'api.example.com', want: 200, route: 'exact-host' },
  { desc: 'exact host with port in Host', path: '/v1', host: 'api.example.com:8080', want: 200, route: 'exact-host' },
  { desc: 'host match is case-insensitive', path: '/v1', host: 'API.Example.COM', want: 200, route: 'exact-host' },
  { desc: 'wildcard host matches a subdomain', path: '/anything', host: 'www.example.com', want: 200, route: 'wildcard-host' },
  { desc: 'wildcard host does not match the bare domain', path: '/health', host: 'example.com', want: 200, route: 'exact-path' },
  { desc: 'exact path', path: '/health', want: 200, route: 'exact-path' },
  { desc: 'exact path ignores the query', path: '/health?verbose=1', want: 200, route: 'exact-path' },
  { desc: 'exact path does not match below it', path: '/health/x', want: 404 },
  { desc: 'regex path', path: '/items/42', want: 200, route: 'regex' },
  { desc: 'regex path, no match', path: '/items/abc', want: 404 },
  { desc: 'method filter matches', path: '/submit', method: 'POST', want: 200, route: 'post-only' },
  { desc: 'method filter rejects', path: '/submit', method: 'GET', want: 404 },
  { desc: 'header exact', path: '/h', headers: { 'x-env': 'canary' }, want: 200, route: 'header' },
  { desc: 'header regex', path: '/h', headers: { 'x-env': 'green' }, want: 200, route: 'header-regex' },
  { desc: 'header missing', path: '/h', want: 404 },
  { desc: 'prefix ending in / matches below it', path: '/static/app.js', want: 200, route: 'prefix-slash' },
  { desc: 'prefix ending in / does not match itself without /', path: '/static', want: 404 },
  { desc: 'prefix matches itself', path: '/api', want: 200, route: 'prefix' },
  { desc: 'prefix matches a sub-path', path: '/api/x', want: 200, route: 'prefix' },
  { desc: 'prefix does not match a longer word', path: '/apiary', want: 404 },
  { desc: 'no route: 404 JSON', path: '/nowhere', want: 404 },
];

t.test('route table: first match wins', async (t) => {
  const { url } = await startGateway(t, { routes });
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const res = await request(`${url}${c.path}`, {
        method: c.method ?? 'GET',
        headers: { ...(c.host ? { host: c.host } : {}), ...c.headers },
      });
      t.equal(res.status, c.want, 'status');
      if (c.route) t.equal(res.body, c.route, 'route');
      else expectError(t, res, 'GH_ERR_NO_ROUTE');
    });
  }
});

t.test('path sent upstream: stripPrefix and rewrite', async (t) => {
  const be = await startBackend(t);
  const { url } = await startGateway(t, {
    upstreams: { be: { targets: [be.url] }, based: { targets: [`${be.url}/base`] } },
    routes: [
      { match: { path: '/strip' }, stripPrefix: '/strip', upstream: 'be' },
      { match: { path: '/old' }, rewrite: { pattern: '^/old/(\\w+)', replacement: '/new/$1' }, upstream: 'be' },
      { match: { path: '/based' }, stripPrefix: '/based', upstream: 'based' },
      { match: { path: '/' }, upstream: 'be' },
    ],
  });
  const table = [
    { desc: 'strip prefix keeps the rest and the query', path: '/strip/a/b?q=1', want: '/a/b?q=1' },
    { desc: 'strip prefix of the prefix itself gives /', path: '/strip', want: '/' },
    { desc: 'regex rewrite with a group', path: '/old/thing?x=y', want: '/new/thing?x=y' },
    { desc: 'target base path is prepended', path: '/based/file', want: '/base/file' },
    { desc: 'no rewrite: path as received', path: '/plain/%20x?a=b&c', want: '/plain/%20x?a=b&c' },
  ];
  for (const c of table) {
    await t.test(c.desc, async (t) => {
      const res = await request(`${url}${c.path}`);
      t.equal(res.status, 200, 'status');
      t.equal(JSON.parse(res.body).url, c.want, 'the path upstream');
    });
  }
});

t.test('round robin across the targets of an upstream', async (t) => {
  const a = await startBackend(t, (_req, res) => res.end('a'));
  const b = await startBackend(t, (_req, res) => res.end('b'));
  const { url } = await startGateway(t, {
    upstreams: { both: { targets: [a.url, b.url] } },
    routes: [{ match: { path: '/' }, upstream: 'both' }],
  });
  const seen = [];
  for (let i = 0; i < 4; i++) seen.push((await request(`${url}/`)).body);
  t.same(seen.sort(), ['a', 'a', 'b', 'b'], 'two targets share requests evenly');
});
