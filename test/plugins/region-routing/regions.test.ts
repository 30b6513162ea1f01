import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import t from 'tap';
import {
  Region,
  RegionConfigError,
  RegionsOptions,
  buildRegionNameMap,
  buildRegionTable,
  findRegionByHint,
  normalizeRegions,
  parseRegionFile,
} from '../../../plugins/region-routing/regions';
import { regionsOptionsSchema } from '../../../plugins/region-routing/schema';

const FIXTURE = join(__dirname, 'fixtures', 'regionData.cfg');

const shared = {
  name: 'smt-ec2.susecloud.net',
  registryName: 'registry-ec2.susecloud.net',
  fingerprint: '9E:A4:F2:6E:54:D7:3B:10:DE:A7:1E:88:2E:6D:6F:2F:58:21:50:67',
};

/** What the fixture means. */
const expected: Region[] = [
  {
    name: 'eu-central-1',
    publicIps: ['10.0.0.0/8', '198.51.100.0/24', '203.0.113.0/25'],
    publicIpsV6: ['2001:db8:e1::/48'],
    servers: [
      { ip: '192.0.2.10', ipv6: '2001:db8:e1::10', ...shared },
      { ip: '192.0.2.11', ipv6: '2001:db8:e1::11', ...shared },
      { ip: '192.0.2.12', ipv6: '2001:db8:e1::12', ...shared },
    ],
  },
  {
    name: 'us-west-2',
    publicIps: ['10.20.0.0/16', '203.0.113.128/25'],
    publicIpsV6: ['2001:db8:a2::/48', '2001:db8:a2:100::/56'],
    servers: [
      { ip: '192.0.2.20', name: 'smt-a-ec2.susecloud.net', registryName: 'registry-a-ec2.susecloud.net', fingerprint: '0A:0A:0A:0A' },
      { ip: '192.0.2.21', name: 'smt-b-ec2.susecloud.net', registryName: 'registry-b-ec2.susecloud.net', fingerprint: '0B:0B:0B:0B' },
    ],
  },
  {
    name: 'ap-ipv6-only',
    publicIps: [],
    publicIpsV6: ['2001:db8:c3::/48'],
    servers: [
      {
        ipv6: '2001:db8:c3::1',
        name: 'smt-v6-ec2.susecloud.net',
        registryName: 'registry-v6-ec2.susecloud.net',
        fingerprint: 'C3:C3:C3:C3',
      },
    ],
  },
  {
    name: 'Hint-Only',
    publicIps: [],
    publicIpsV6: [],
    servers: [
      { ip: '192.0.2.30', name: 'smt-hint.susecloud.net', registryName: 'registry-hint.susecloud.net', fingerprint: '30:30:30:30' },
    ],
  },
];

/** The fixture written as plugin options. */
const asOptions: RegionsOptions = Object.fromEntries(
  expected.map((r) => [
    r.name,
    { publicIps: [...r.publicIps], publicIpsV6: [...r.publicIpsV6], servers: r.servers.map((s) => ({ ...s })) },
  ]),
);

t.test('parses a regionData.cfg in the original format', async (t) => {
  const regions = parseRegionFile(readFileSync(FIXTURE, 'utf8'), 'regionData.cfg');
  t.strictSame(regions, expected);
  t.ok(
    regions.every((r) => Object.isFrozen(r) && Object.isFrozen(r.servers) && r.servers.every(Object.isFrozen)),
    'frozen',
  );
});

t.test('plugin options give the same regions as the file', async (t) => {
  t.strictSame(normalizeRegions(asOptions, 'gatehouse.yaml'), expected);
});

t.test('region table and hints over the fixture', async (t) => {
  const regions = parseRegionFile(readFileSync(FIXTURE, 'utf8'), 'regionData.cfg');
  const table = buildRegionTable(regions);
  const names = buildRegionNameMap(regions);
  const cases: [string, string | undefined][] = [
    ['10.1.2.3', 'eu-central-1'],
    ['10.20.2.3', 'us-west-2'],
    ['::ffff:10.20.2.3', 'us-west-2'],
    ['203.0.113.127', 'eu-central-1'],
    ['203.0.113.128', 'us-west-2'],
    ['2001:db8:e1::99', 'eu-central-1'],
    ['2001:db8:a2:1ff::1', 'us-west-2'],
    ['2001:db8:c3:1::1', 'ap-ipv6-only'],
    ['192.0.2.30', undefined],
    ['2001:db8:ffff::1', undefined],
    ['not an ip', undefined],
  ];
  for (const [ip, region] of cases) await t.test(`client ${ip}`, async (t) => t.equal(table.lookup(ip)?.name, region, 'its region'));
  const hints: [string | null | undefined, string | undefined][] = [
    ['eu-central-1', 'eu-central-1'],
    ['EU-Central-1', 'eu-central-1'],
    ['hint-only', 'Hint-Only'],
    ['HINT-ONLY', 'Hint-Only'],
    ['', undefined],
    [undefined, undefined],
    [null, undefined],
    ['mars-1', undefined],
  ];
  for (const [hint, region] of hints)
    await t.test(`hint ${JSON.stringify(hint)}`, async (t) => t.equal(findRegionByHint(names, hint)?.name, region, 'its region'));
});

/** A one-region file: the keys below, with overrides (undefined drops a key). */
function regionFile(overrides: Record<string, string | undefined> = {}, name = 'r1'): string {
  const keys: Record<string, string | undefined> = {
    'public-ips': '10.0.0.0/8',
    'smt-server-ip': '192.0.2.1,192.0.2.2,192.0.2.3',
    'smt-server-name': 'smt.example.net',
    'smt-registry-name': 'registry.example.net',
    'smt-fingerprint': 'AA:BB',
    ...overrides,
  };
  const body = Object.entries(keys)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');
  return `[${name}]\n${body}\n`;
}

interface FileCase {
  description: string;
  text: string;
  /** What to check on the single region parsed, and the value expected. */
  actual?: (r: Region) => unknown;
  expected?: unknown;
  /** Or the error message expected (the file, region and key it names). */
  error?: RegExp;
}

const fileCases: FileCase[] = [
  {
    description: 'one shared name, registry and fingerprint serve all servers',
    text: regionFile(),
    actual: (r) => r.servers.map((s) => [s.name, s.registryName, s.fingerprint]),
    expected: Array(3).fill(['smt.example.net', 'registry.example.net', 'AA:BB']),
  },
  {
    description: 'one value per server pairs up in order',
    text: regionFile({
      'smt-server-name': 'a.net, b.net ,c.net',
      'smt-registry-name': 'ra.net,rb.net,rc.net',
      'smt-fingerprint': '01,02,03',
    }),
    actual: (r) => r.servers.map((s) => `${s.ip} ${s.name} ${s.registryName} ${s.fingerprint}`),
    expected: ['192.0.2.1 a.net ra.net 01', '192.0.2.2 b.net rb.net 02', '192.0.2.3 c.net rc.net 03'],
  },
  {
    description: 'IPv6-only servers have no ip',
    text: regionFile({ 'smt-server-ip': undefined, 'smt-server-ipv6': '2001:db8::1, 2001:db8::2' }),
    actual: (r) => r.servers.map((s) => [s.ip, s.ipv6]),
    expected: [
      [undefined, '2001:db8::1'],
      [undefined, '2001:db8::2'],
    ],
  },
  {
    description: 'IPv4 and IPv6 server lists of equal length pair up',
    text: regionFile({ 'smt-server-ip': '192.0.2.1,192.0.2.2', 'smt-server-ipv6': '2001:db8::1,2001:db8::2' }),
    actual: (r) => r.servers.map((s) => [s.ip, s.ipv6]),
    expected: [
      ['192.0.2.1', '2001:db8::1'],
      ['192.0.2.2', '2001:db8::2'],
    ],
  },
  {
    description: 'a bare address in public-ips means /32 (as the original read it); CIDRs are canonicalised and de-duplicated',
    text: regionFile({ 'public-ips': '127.0.0.1, 10.0.0.0/08, 10.0.0.0/8', 'public-ipsv6': '2001:DB8:0::/32' }),
    actual: (r) => [r.publicIps, r.publicIpsV6],
    expected: [['127.0.0.1/32', '10.0.0.0/8'], ['2001:db8::/32']],
  },
  {
    description: 'an empty public-ips is an empty list',
    text: regionFile({ 'public-ips': '' }),
    actual: (r) => r.publicIps,
    expected: [],
  },
  {
    description: 'names: 2 values for 3 servers',
    text: regionFile({ 'smt-server-name': 'a.net,b.net' }),
    error:
      /^test\.cfg, region "r1", key "smt-server-name": has 2 values for 3 servers; give one value shared by all servers or exactly one per server$/,
  },
  {
    description: 'registry names: 4 values for 3 servers',
    text: regionFile({ 'smt-registry-name': 'a,b,c,d' }),
    error: /region "r1", key "smt-registry-name": has 4 values for 3 servers/,
  },
  {
    description: 'fingerprints: 2 values for 3 servers',
    text: regionFile({ 'smt-fingerprint': 'AA,BB' }),
    error: /region "r1", key "smt-fingerprint": has 2 values for 3 servers/,
  },
  {
    description: 'missing smt-server-name',
    text: regionFile({ 'smt-server-name': undefined }),
    error: /region "r1", key "smt-server-name": is missing/,
  },
  {
    description: 'missing smt-registry-name',
    text: regionFile({ 'smt-registry-name': undefined }),
    error: /region "r1", key "smt-registry-name": is missing/,
  },
  {
    description: 'missing smt-fingerprint',
    text: regionFile({ 'smt-fingerprint': undefined }),
    error: /region "r1", key "smt-fingerprint": is missing/,
  },
  {
    description: 'no server lists at all',
    text: regionFile({ 'smt-server-ip': undefined }),
    error: /region "r1", key "smt-server-ip": no update server addresses; set smt-server-ip, smt-server-ipv6 or both/,
  },
  {
    description: 'empty server lists count as missing',
    text: regionFile({ 'smt-server-ip': '', 'smt-server-ipv6': ' ' }),
    error: /no update server addresses/,
  },
  {
    description: 'IPv4 and IPv6 server lists of different lengths',
    text: regionFile({ 'smt-server-ipv6': '2001:db8::1' }),
    error: /region "r1", key "smt-server-ipv6": 1 IPv6 addresses but 3 IPv4 addresses in smt-server-ip/,
  },
  {
    description: 'malformed CIDR',
    text: regionFile({ 'public-ips': '10.0.0.0/8,10.300.0.0/16' }),
    error: /region "r1", key "public-ips": Invalid CIDR "10\.300\.0\.0\/16"/,
  },
  {
    description: 'CIDR with host bits set',
    text: regionFile({ 'public-ips': '10.0.0.1/8' }),
    error: /key "public-ips": Invalid CIDR "10\.0\.0\.1\/8": host bits are set/,
  },
  {
    description: 'malformed IPv6 CIDR',
    text: regionFile({ 'public-ipsv6': '2001:db8::/129' }),
    error: /key "public-ipsv6": Invalid CIDR "2001:db8::\/129"/,
  },
  {
    description: 'IPv6 CIDR in public-ips',
    text: regionFile({ 'public-ips': '2001:db8::/32' }),
    error: /key "public-ips": "2001:db8::\/32" is an IPv6 CIDR in an IPv4 list/,
  },
  {
    description: 'IPv4 CIDR in public-ipsv6',
    text: regionFile({ 'public-ipsv6': '10.0.0.0/8' }),
    error: /key "public-ipsv6": "10\.0\.0\.0\/8" is an IPv4 CIDR in an IPv6 list/,
  },
  { description: 'stray comma', text: regionFile({ 'public-ips': '10.0.0.0/8,' }), error: /key "public-ips": has an empty entry/ },
  {
    description: 'server IPv4 address malformed',
    text: regionFile({ 'smt-server-ip': '192.0.2.1,192.0.2' }),
    error: /key "smt-server-ip": "192\.0\.2" is not an IPv4 address/,
  },
  {
    description: 'server IPv6 address malformed',
    text: regionFile({ 'smt-server-ip': undefined, 'smt-server-ipv6': '2001:db8::g' }),
    error: /key "smt-server-ipv6": "2001:db8::g" is not an IPv6 address/,
  },
  {
    description: 'value with inner whitespace',
    text: regionFile({ 'smt-fingerprint': 'AA BB' }),
    error: /key "smt-fingerprint": "AA BB" contains whitespace/,
  },
  {
    description: 'unknown (misspelt) key',
    text: regionFile({ 'smt-server-ip6': '2001:db8::1' }),
    error: /region "r1", key "smt-server-ip6": unknown key \(line 7\)/,
  },
];

t.test('region file rules', async (t) => {
  for (const c of fileCases) {
    t.test(c.description, async (t) => {
      if (c.error) {
        t.throws(() => parseRegionFile(c.text, 'test.cfg'), { name: 'RegionConfigError', message: c.error });
      } else {
        const regions = parseRegionFile(c.text, 'test.cfg');
        t.equal(regions.length, 1);
        t.strictSame(c.actual?.(regions[0]), c.expected);
      }
    });
  }
});

t.test('whole-file rules and INI syntax', async (t) => {
  const two = (a: string, b: string): string => regionFile({}, a) + regionFile({ 'public-ips': '172.16.0.0/12' }, b);
  const cases: [description: string, text: string, error: RegExp][] = [
    ['no regions', '# nothing here\n', /^f\.cfg: no regions are defined$/],
    [
      'region names that differ only in case',
      two('Eu-1', 'eu-1'),
      /f\.cfg, region "eu-1": region names must differ in more than letter case \(see "Eu-1"\)/,
    ],
    ['the same section twice', two('r1', 'r1'), /^f\.cfg:7: section \[r1\] appears twice$/],
    [
      'a CIDR listed by two regions',
      regionFile({}, 'a') + regionFile({ 'public-ips': '10.0.0.0/8' }, 'b'),
      /f\.cfg, region "b", key "public-ips": 10\.0\.0\.0\/8 is also listed by region "a"/,
    ],
    [
      'the same network as IPv4 and as mapped IPv6 in two regions',
      regionFile({}, 'a') + regionFile({ 'public-ips': '', 'public-ipsv6': '::ffff:10.0.0.0/104' }, 'b'),
      /region "b", key "public-ipsv6": ::ffff:10\.0\.0\.0\/104 is also listed by region "a"/,
    ],
    ['entry before the first section', `public-ips = 10.0.0.0/8\n${regionFile()}`, /^f\.cfg:1: entry before the first \[section\] header$/],
    ['malformed section header', '[r1\nsmt-server-ip = 192.0.2.1\n', /^f\.cfg:1: malformed section header/],
    ['line without a delimiter', `${regionFile()}just words\n`, /^f\.cfg:7: expected "key = value"/],
    [
      'duplicate key',
      `${regionFile()}SMT-Server-Name = other.net\n`,
      /^f\.cfg:7: key "smt-server-name" appears twice in the same section$/,
    ],
  ];
  for (const [description, text, error] of cases)
    await t.test(description, async (t) =>
      t.throws(() => parseRegionFile(text, 'f.cfg'), { name: 'RegionConfigError', message: error }, 'refused, saying where and why'),
    );

  const ok = parseRegionFile(regionFile({ 'public-ips': '10.0.0.0/8', 'public-ipsv6': '::ffff:10.0.0.0/104' }), 'f.cfg');
  t.equal(buildRegionTable(ok).lookup('10.1.1.1'), ok[0], 'the same network twice in one region is harmless');
});

t.test('configparser features of the original format', async (t) => {
  const text = [
    '\uFEFF[DEFAULT]',
    'smt-registry-name = registry.example.net',
    'smt-fingerprint: AA:BB',
    '',
    '[r1]',
    '  ; an indented comment',
    'Public-IPs = 10.0.0.0/8,',
    '    172.16.0.0/12',
    'smt-server-ip=192.0.2.1',
    'smt-server-name = smt.example.net',
    '',
    '[r2]',
    'smt-server-ip = 192.0.2.2',
    'smt-server-name = smt2.example.net',
    'smt-fingerprint = CC:DD',
  ].join('\r\n');
  const [r1, r2] = parseRegionFile(text, 'f.cfg');
  t.strictSame(r1.publicIps, ['10.0.0.0/8', '172.16.0.0/12'], 'continuation line, case-insensitive key, CRLF, BOM');
  t.strictSame(
    r1.servers[0],
    { ip: '192.0.2.1', name: 'smt.example.net', registryName: 'registry.example.net', fingerprint: 'AA:BB' },
    '[DEFAULT] values and ":" delimiter',
  );
  t.equal(r2.servers[0].fingerprint, 'CC:DD', 'a section overrides [DEFAULT]');
});

t.test('plugin options rules', async (t) => {
  const server = { ip: '192.0.2.1', name: 'smt.example.net', registryName: 'registry.example.net', fingerprint: 'AA:BB' };
  const one = (region: unknown): unknown => ({ r1: region });
  const cases: [description: string, input: unknown, error: RegExp][] = [
    ['not an object', [], /^gh\.yaml, key "regions": must be an object keyed by region name$/],
    ['no regions', {}, /^gh\.yaml: no regions are defined$/],
    ['region not an object', one('x'), /^gh\.yaml, region "r1": must be an object$/],
    ['region name with spaces around', { ' r1': { servers: [server] } }, /region " r1": region names must be non-empty/],
    [
      'unknown region key',
      one({ servers: [server], publicIPs: [] }),
      /region "r1", key "publicIPs": unknown key; known keys: publicIps, publicIpsV6, servers/,
    ],
    ['missing servers', one({ publicIps: ['10.0.0.0/8'] }), /region "r1", key "servers": must be a non-empty list of servers/],
    ['empty servers', one({ servers: [] }), /key "servers": must be a non-empty list/],
    ['server not an object', one({ servers: ['192.0.2.1'] }), /key "servers\[0\]": must be an object/],
    ['unknown server key', one({ servers: [{ ...server, fqdn: 'x' }] }), /key "servers\[0\]\.fqdn": unknown key/],
    ['server without an address', one({ servers: [server, { ...server, ip: undefined }] }), /key "servers\[1\]\.ip": set ip, ipv6 or both/],
    [
      'server ip malformed',
      one({ servers: [{ ...server, ip: '2001:db8::1' }] }),
      /key "servers\[0\]\.ip": "2001:db8::1" is not an IPv4 address/,
    ],
    [
      'server ipv6 malformed',
      one({ servers: [{ ...server, ipv6: 'fe80::1%eth0' }] }),
      /key "servers\[0\]\.ipv6": "fe80::1%eth0" is not an IPv6 address/,
    ],
    ['server name missing', one({ servers: [{ ...server, name: undefined }] }), /key "servers\[0\]\.name": is required/],
    [
      'registry name not a string',
      one({ servers: [{ ...server, registryName: 7 }] }),
      /key "servers\[0\]\.registryName": is required \(a string\)/,
    ],
    ['empty fingerprint', one({ servers: [{ ...server, fingerprint: ' ' }] }), /key "servers\[0\]\.fingerprint": must not be empty/],
    ['publicIps not a list', one({ servers: [server], publicIps: '10.0.0.0/8' }), /key "publicIps": must be a list of strings/],
    [
      'malformed CIDR',
      one({ servers: [server], publicIps: ['10.0.0.0/33'] }),
      /region "r1", key "publicIps": Invalid CIDR "10\.0\.0\.0\/33"/,
    ],
    [
      'IPv6 CIDR in publicIps',
      one({ servers: [server], publicIps: ['2001:db8::/32'] }),
      /key "publicIps": "2001:db8::\/32" is an IPv6 CIDR in an IPv4 list/,
    ],
  ];
  for (const [description, input, error] of cases)
    await t.test(description, async (t) =>
      t.throws(() => normalizeRegions(input, 'gh.yaml'), { name: 'RegionConfigError', message: error }, 'refused, saying why'),
    );

  const mixed = normalizeRegions({
    r1: { servers: [server, { ipv6: '2001:db8::1', name: 'b.net', registryName: 'rb.net', fingerprint: 'CC' }] },
  });
  t.strictSame(
    mixed[0].servers.map((s) => [s.ip, s.ipv6]),
    [
      ['192.0.2.1', undefined],
      [undefined, '2001:db8::1'],
    ],
    'servers may mix families',
  );
  t.throws(() => normalizeRegions({ r1: {} }), { message: /^region "r1", key "servers"/ }, 'no source: the message starts with the region');
});

t.test('JSON Schema fragment', async (t) => {
  // Ajv's default strictness (core relaxes it further); any strict-mode warning fails the test.
  const warnings: unknown[] = [];
  const ajv = new Ajv({
    allErrors: true,
    logger: { log: () => {}, warn: (...m: unknown[]) => warnings.push(m), error: (...m: unknown[]) => warnings.push(m) },
  });
  const validate = ajv.compile(regionsOptionsSchema);
  t.strictSame(warnings, [], 'no strict-mode warnings');
  t.ok(validate(asOptions), 'the fixture as options is valid');
  const invalid: [string, unknown][] = [
    ['extra region key', { r1: { ...asOptions['eu-central-1'], extra: 1 } }],
    ['extra server key', { r1: { servers: [{ ...asOptions['eu-central-1'].servers[0], port: 443 }] } }],
    ['server without an address', { r1: { servers: [{ name: 'a', registryName: 'b', fingerprint: 'c' }] } }],
    ['no servers', { r1: { publicIps: [] } }],
    ['fingerprint with whitespace', { r1: { servers: [{ ip: '192.0.2.1', name: 'a', registryName: 'b', fingerprint: 'A B' }] } }],
    ['empty', {}],
  ];
  for (const [description, value] of invalid) t.notOk(validate(value), description);
});

t.test('RegionConfigError carries its parts', async (t) => {
  const err = new RegionConfigError({ file: 'a.cfg', region: 'r', key: 'k' }, 'bad');
  t.match(err, { name: 'RegionConfigError', file: 'a.cfg', region: 'r', key: 'k', message: 'a.cfg, region "r", key "k": bad' });
  t.ok(err instanceof Error);
});
