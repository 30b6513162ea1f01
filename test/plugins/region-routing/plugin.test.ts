import { copyFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import t from 'tap';
import { createGateway, generateCertificate } from '../../../app';
import { request, startBackend, startGateway, testLogger } from '../../helpers/servers';

const FIXTURE = join(__dirname, 'fixtures', 'regionData.cfg');
const XFF = (ip: string) => ({ 'x-forwarded-for': ip });

t.test('respond mode over a regionData.cfg in the original format', async (t) => {
  const dir = t.testdir({});
  copyFileSync(FIXTURE, join(dir, 'regionData.cfg'));
  const { gw, url } = await startGateway(t, {
    server: { http: { port: 0, host: '127.0.0.1' }, trustProxy: ['127.0.0.1'] },
    routes: [{ match: { path: '/' }, plugins: [{ 'region-routing': { regionsFile: join(dir, 'regionData.cfg'), shuffle: false } }] }],
  });

  const cases: {
    desc: string;
    path: string;
    headers?: Record<string, string>;
    method?: string;
    status: number;
    region?: string;
    body?: string;
  }[] = [
    { desc: 'hint, exact case', path: '/regionInfo?regionHint=us-west-2', status: 200, region: 'us-west-2' },
    { desc: 'hint is case-insensitive', path: '/regionInfo?regionHint=EU-Central-1', status: 200, region: 'eu-central-1' },
    { desc: 'hint-only region by hint', path: '/regionInfo?regionHint=hint-only', status: 200, region: 'hint-only' },
    {
      desc: 'unknown hint falls back to the IP',
      path: '/regionInfo?regionHint=mars-1',
      headers: XFF('10.20.1.1'),
      status: 200,
      region: 'us-west-2',
    },
    {
      desc: 'empty hint falls back to the IP',
      path: '/regionInfo?regionHint=',
      headers: XFF('10.1.1.1'),
      status: 200,
      region: 'eu-central-1',
    },
    {
      desc: 'no hint: IPv4 by longest prefix (/8 vs /16 → /16)',
      path: '/regionInfo',
      headers: XFF('10.20.255.255'),
      status: 200,
      region: 'us-west-2',
    },
    { desc: 'no hint: IPv4 in the wider /8', path: '/regionInfo', headers: XFF('10.21.0.1'), status: 200, region: 'eu-central-1' },
    { desc: 'IPv4 split /25 halves', path: '/regionInfo', headers: XFF('203.0.113.200'), status: 200, region: 'us-west-2' },
    { desc: 'IPv6 by prefix', path: '/regionInfo', headers: XFF('2001:db8:e1::abcd'), status: 200, region: 'eu-central-1' },
    {
      desc: 'IPv6 nested /56 inside /48 of the same region',
      path: '/regionInfo',
      headers: XFF('2001:db8:a2:1ff::1'),
      status: 200,
      region: 'us-west-2',
    },
    { desc: 'IPv6-only region', path: '/regionInfo', headers: XFF('2001:db8:c3::99'), status: 200, region: 'ap-ipv6-only' },
    { desc: 'no match: 404 Not found', path: '/regionInfo', headers: XFF('8.8.8.8'), status: 404, body: 'Not found' },
    { desc: 'no match for the loopback peer itself', path: '/regionInfo', status: 404, body: 'Not found' },
    { desc: 'other methods: 405', path: '/regionInfo', method: 'POST', status: 405 },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const res = await request(`${url}${c.path}`, { method: c.method, headers: c.headers });
      t.equal(res.status, c.status, 'status');
      if (c.region) t.match(res.body, `region="${c.region}"`, 'region');
      if (c.body !== undefined) t.equal(res.body, c.body, 'body');
    });
  }

  const xml = await request(`${url}/regionInfo?regionHint=ap-ipv6-only`);
  t.equal(
    xml.body,
    '<regionSMTdata>\n<smtInfo SMTserverIP="None" SMTserverIPv6="2001:db8:c3::1" SMTserverName="smt-v6-ec2.susecloud.net" SMTregistryName="registry-v6-ec2.susecloud.net" fingerprint="C3:C3:C3:C3" region="ap-ipv6-only"/>\n</regionSMTdata>',
    'IPv6-only server: SMTserverIP="None", exact bytes',
  );
  const v4only = await request(`${url}/regionInfo?regionHint=hint-only`);
  t.notMatch(v4only.body, 'SMTserverIPv6', 'SMTserverIPv6 omitted when the server has none');
  const json = await request(`${url}/regionInfo?regionHint=us-west-2`, { headers: { accept: 'application/json' } });
  t.match(json.headers['content-type'], /application\/json/);
  t.match(JSON.parse(json.body), { region: 'us-west-2' }, 'Accept: application/json gets JSON');

  const metrics = await gw.metrics.registry.metrics();
  t.match(
    metrics,
    /gatehouse_region_routing_requests_total\{region="us-west-2",source="hint",instance="region-routing#1"\} \d+/,
    'counted by region and source (hint)',
  );
  t.match(
    metrics,
    /gatehouse_region_routing_requests_total\{region="us-west-2",source="ip",instance="region-routing#1"\} \d+/,
    'counted by source (ip)',
  );
  t.match(
    metrics,
    /gatehouse_region_routing_requests_total\{region="none",source="none",instance="region-routing#1"\} \d+/,
    'counted by source (none)',
  );
});

t.test('X-Forwarded-For is ignored from an untrusted peer', async (t) => {
  const { url } = await startGateway(t, { routes: [{ match: { path: '/' }, plugins: [{ 'region-routing': { regionsFile: FIXTURE } }] }] });
  const res = await request(`${url}/regionInfo`, { headers: XFF('10.20.1.1') });
  t.equal(res.status, 404, 'the peer (127.0.0.1) is looked up, not the claimed address');
});

t.test('servers are shuffled per request unless turned off', async (t) => {
  const regions = {
    big: {
      publicIps: ['0.0.0.0/0'],
      servers: Array.from({ length: 6 }, (_, i) => ({ ip: `192.0.2.${i + 1}`, name: `s${i}`, registryName: 'r', fingerprint: 'f' })),
    },
  };
  const { url } = await startGateway(t, { routes: [{ match: { path: '/' }, plugins: [{ 'region-routing': { regions } }] }] });
  const orders = new Set<string>();
  for (let i = 0; i < 20; i++) orders.add((await request(`${url}/regionInfo`)).body);
  t.ok(orders.size > 1, `different orders seen (${orders.size} distinct in 20)`);
});

t.test("route mode: forwards to the region's upstream with the region in a header", async (t) => {
  const eu = await startBackend(t, (req, res) => res.end(`eu ${req.headers['x-gatehouse-region']}`));
  const us = await startBackend(t, (req, res) => res.end(`us ${req.headers['x-gatehouse-region']}`));
  const other = await startBackend(t, (req, res) => res.end(`fallback ${req.headers['x-gatehouse-region'] ?? '-'}`));
  const upstreams = { eu: { targets: [eu.url] }, us: { targets: [us.url] }, other: { targets: [other.url] } };
  const map = { 'eu-central-1': 'eu', 'us-west-2': 'us', 'ap-ipv6-only': 'other', 'hint-only': 'other' };
  const trust = { http: { port: 0, host: '127.0.0.1' }, trustProxy: ['127.0.0.1'] };
  const { url } = await startGateway(t, {
    server: trust,
    upstreams,
    routes: [
      { match: { path: '/' }, plugins: [{ 'region-routing': { regionsFile: FIXTURE, mode: 'route', upstreams: map, fallback: 'other' } }] },
    ],
  });
  const strict = await startGateway(t, {
    server: trust,
    upstreams,
    routes: [{ match: { path: '/' }, plugins: [{ 'region-routing': { regionsFile: FIXTURE, mode: 'route', upstreams: map } }] }],
  });
  const cases = [
    { desc: 'by IP', base: url, headers: XFF('10.20.0.1'), status: 200, body: 'us us-west-2' },
    { desc: 'by hint', base: url, path: '/x?regionHint=EU-CENTRAL-1', status: 200, body: 'eu eu-central-1' },
    {
      desc: 'no region: fallback upstream, client-sent region header dropped',
      base: url,
      headers: { ...XFF('8.8.8.8'), 'x-gatehouse-region': 'us-west-2' },
      status: 200,
      body: 'fallback -',
    },
    { desc: 'no region and no fallback: 404', base: strict.url, headers: XFF('8.8.8.8'), status: 404 },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const res = await request(`${c.base}${c.path ?? '/x'}`, { headers: c.headers });
      t.equal(res.status, c.status, 'status');
      if (c.status === 200) t.equal(res.body, c.body, 'upstream and header');
    });
  }
});

t.test('configuration errors name the region and key', async (t) => {
  const bad = (regions: unknown, extra: Record<string, unknown> = {}) =>
    createGateway({
      logger: testLogger(),
      config: {
        upstreams: { u: { targets: ['http://127.0.0.1:1'] } },
        routes: [{ match: { path: '/' }, plugins: [{ 'region-routing': { regions, ...extra } }] }],
      },
    });
  const server = { name: 'n', registryName: 'r', fingerprint: 'f', ip: '192.0.2.1' };
  const cases = [
    {
      desc: 'malformed CIDR',
      regions: { east: { publicIps: ['10.0.0.0/33'], servers: [server] } },
      want: /east.*publicIps|publicIps.*east/,
    },
    {
      desc: 'route mode without an upstream for a region',
      regions: { east: { publicIps: ['10.0.0.0/8'], servers: [server] } },
      extra: { mode: 'route' },
      want: /region "east" has no entry in upstreams/,
    },
    {
      desc: 'route mode with an unknown upstream',
      regions: { east: { publicIps: ['10.0.0.0/8'], servers: [server] } },
      extra: { mode: 'route', upstreams: { east: 'nope' } },
      want: /unknown upstream "nope"/,
    },
  ];
  for (const c of cases)
    await t.test(c.desc, (t) => t.rejects(bad(c.regions, c.extra), { code: 'GH_ERR_CONFIG_INVALID', message: c.want }, 'refused'));
  await t.rejects(
    createGateway({
      logger: testLogger(),
      config: { routes: [{ match: { path: '/' }, plugins: [{ 'region-routing': { mode: 'respond' } }] }] },
    }),
    { code: 'GH_ERR_CONFIG_INVALID' },
    'neither regions nor regionsFile',
  );
});

t.test('watch: a changed file is picked up; a bad one keeps the old table', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'regionData.cfg');
  const section = (name: string, cidr: string) =>
    `[${name}]\npublic-ips = ${cidr}\nsmt-server-ip = 192.0.2.1\nsmt-server-name = s\nsmt-registry-name = r\nsmt-fingerprint = f\n`;
  writeFileSync(file, section('first', '0.0.0.0/0'));
  const { gw, url } = await startGateway(t, {
    routes: [{ match: { path: '/' }, plugins: [{ 'region-routing': { regionsFile: file, watch: true } }] }],
  });
  t.match((await request(`${url}/regionInfo`)).body, 'region="first"');
  const until = async (want: string) => {
    for (let i = 0; i < 60; i++) {
      if ((await request(`${url}/regionInfo`)).body.includes(want)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };
  writeFileSync(file, section('second', '0.0.0.0/0'));
  t.ok(await until('region="second"'), 'the new file is served');
  writeFileSync(file, section('third', 'not-a-cidr'));
  await new Promise((r) => setTimeout(r, 1500));
  t.match((await request(`${url}/regionInfo`)).body, 'region="second"', 'a bad file keeps the old table');
  t.match(
    await gw.metrics.registry.metrics(),
    /gatehouse_region_routing_file_reloads_total\{result="failed",instance="region-routing#1"\} [1-9]/,
    'the rejection is counted',
  );
});

t.test('HTTPS with a certificate from gatehouse cert, as the original deployment ran', async (t) => {
  const pair = await generateCertificate({ host: 'smt-ec2.susecloud.net', sanIps: ['127.0.0.1'] });
  const dir = t.testdir({ 'cert.pem': pair.cert, 'key.pem': pair.key });
  const gw = await (
    await createGateway({
      logger: testLogger(),
      config: {
        server: { https: { port: 0, host: '127.0.0.1', cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } },
        routes: [{ match: { path: '/' }, plugins: [{ 'region-routing': { regionsFile: FIXTURE } }] }],
      },
    })
  ).listen();
  t.teardown(() => gw.close(100));
  const body = await new Promise<string>((resolve, reject) => {
    https
      .get(
        {
          host: '127.0.0.1',
          port: gw.addresses.https!.port,
          path: '/regionInfo?regionHint=us-west-2',
          ca: pair.cert,
          servername: 'smt-ec2.susecloud.net',
          agent: false,
        },
        (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(b));
        },
      )
      .on('error', reject);
  });
  t.match(body, /^<regionSMTdata>\n<smtInfo SMTserverIP="192\.0\.2\.2[01]"/, 'pinned certificate, region answer over TLS');
});
