import t from 'tap';
import { Region, normalizeRegions } from '../../../plugins/region-routing/regions';
import { escapeXmlAttribute, regionToJson, renderRegionJson, renderRegionXml, shuffled } from '../../../plugins/region-routing/xml';

const [dual, v4only, v6only, mixed] = normalizeRegions({
  'EU-Central-1': {
    servers: [
      {
        ip: '192.0.2.10',
        ipv6: '2001:db8::10',
        name: 'smt-ec2.susecloud.net',
        registryName: 'registry-ec2.susecloud.net',
        fingerprint: '9E:A4',
      },
      {
        ip: '192.0.2.11',
        ipv6: '2001:db8::11',
        name: 'smt-ec2.susecloud.net',
        registryName: 'registry-ec2.susecloud.net',
        fingerprint: '9E:A4',
      },
    ],
  },
  'us-west-2': { servers: [{ ip: '192.0.2.20', name: 'smt-a.example.net', registryName: 'registry-a.example.net', fingerprint: '0A' }] },
  'v6-only': {
    servers: [{ ipv6: '2001:db8:c3::1', name: 'smt-v6.example.net', registryName: 'registry-v6.example.net', fingerprint: 'C3' }],
  },
  mixed: {
    servers: [
      { ip: '192.0.2.1', name: 'a.net', registryName: 'ra.net', fingerprint: '01' },
      { ipv6: '2001:db8::2', name: 'b.net', registryName: 'rb.net', fingerprint: '02' },
      { ip: '192.0.2.3', ipv6: '2001:db8::3', name: 'c.net', registryName: 'rc.net', fingerprint: '03' },
    ],
  },
});

const xmlCases: { description: string; region: Region; xml: string }[] = [
  {
    description: 'dual-stack servers: all six attributes in order; region name lower-cased as the original did',
    region: dual,
    xml:
      '<regionSMTdata>' +
      '<smtInfo SMTserverIP="192.0.2.10" SMTserverIPv6="2001:db8::10" SMTserverName="smt-ec2.susecloud.net" SMTregistryName="registry-ec2.susecloud.net" fingerprint="9E:A4" region="eu-central-1"/>' +
      '<smtInfo SMTserverIP="192.0.2.11" SMTserverIPv6="2001:db8::11" SMTserverName="smt-ec2.susecloud.net" SMTregistryName="registry-ec2.susecloud.net" fingerprint="9E:A4" region="eu-central-1"/>' +
      '</regionSMTdata>',
  },
  {
    description: 'IPv4-only server: SMTserverIPv6 left out',
    region: v4only,
    xml: '<regionSMTdata><smtInfo SMTserverIP="192.0.2.20" SMTserverName="smt-a.example.net" SMTregistryName="registry-a.example.net" fingerprint="0A" region="us-west-2"/></regionSMTdata>',
  },
  {
    description: 'IPv6-only server: SMTserverIP="None"',
    region: v6only,
    xml: '<regionSMTdata><smtInfo SMTserverIP="None" SMTserverIPv6="2001:db8:c3::1" SMTserverName="smt-v6.example.net" SMTregistryName="registry-v6.example.net" fingerprint="C3" region="v6-only"/></regionSMTdata>',
  },
  {
    description: 'servers of mixed families keep the configured order',
    region: mixed,
    xml:
      '<regionSMTdata>' +
      '<smtInfo SMTserverIP="192.0.2.1" SMTserverName="a.net" SMTregistryName="ra.net" fingerprint="01" region="mixed"/>' +
      '<smtInfo SMTserverIP="None" SMTserverIPv6="2001:db8::2" SMTserverName="b.net" SMTregistryName="rb.net" fingerprint="02" region="mixed"/>' +
      '<smtInfo SMTserverIP="192.0.2.3" SMTserverIPv6="2001:db8::3" SMTserverName="c.net" SMTregistryName="rc.net" fingerprint="03" region="mixed"/>' +
      '</regionSMTdata>',
  },
  {
    description: 'attribute values are escaped (a hand-built region; configured values cannot hold whitespace)',
    region: {
      name: 'R&D "x"',
      publicIps: [],
      publicIpsV6: [],
      servers: [{ ip: '192.0.2.1', name: 'a<b>.net', registryName: "r'1", fingerprint: 'A&B\tC\n' }],
    },
    xml: '<regionSMTdata><smtInfo SMTserverIP="192.0.2.1" SMTserverName="a&lt;b&gt;.net" SMTregistryName="r\'1" fingerprint="A&amp;B&#9;C&#10;" region="r&amp;d &quot;x&quot;"/></regionSMTdata>',
  },
];

t.test('exact XML bytes', async (t) => {
  for (const c of xmlCases) {
    await t.test(c.description, async (t) => {
      t.equal(renderRegionXml(c.region), c.xml, 'the XML');
      t.equal(renderRegionXml(c.region), c.xml, 'again, from the cache');
      t.equal(Buffer.from(renderRegionXml(c.region)).toString('hex'), Buffer.from(c.xml).toString('hex'), 'the bytes');
    });
  }
});

t.test('lineBreaks reproduces the published region_srv.py layout', async (t) => {
  t.equal(
    renderRegionXml(v4only, { lineBreaks: true }),
    '<regionSMTdata>\n<smtInfo SMTserverIP="192.0.2.20" SMTserverName="smt-a.example.net" SMTregistryName="registry-a.example.net" fingerprint="0A" region="us-west-2"/>\n</regionSMTdata>',
  );
});

/** A random source that replays `values`. */
const replay = (...values: number[]): (() => number) => {
  let i = 0;
  return () => values[i++ % values.length];
};

t.test('Fisher-Yates shuffle with an injected random source', async (t) => {
  const cases: [description: string, random: () => number, expected: string[]][] = [
    ['random() = 0 always swaps with the first element', replay(0), ['b', 'c', 'd', 'a']],
    ['random() just below 1 keeps the order', replay(0.999999), ['a', 'b', 'c', 'd']],
    ['random() = 1 (out of contract) is clamped, not out of range', replay(1), ['a', 'b', 'c', 'd']],
    ['a fixed sequence', replay(0.5, 0.1, 0.9), ['d', 'b', 'a', 'c']],
  ];
  for (const [description, random, expected] of cases)
    await t.test(description, async (t) => t.strictSame(shuffled(['a', 'b', 'c', 'd'], random), expected, 'the order'));
  const input = ['a', 'b'];
  shuffled(input, replay(0));
  t.strictSame(input, ['a', 'b'], 'the input is not modified');
  t.strictSame(shuffled([], Math.random), [], 'empty');

  // Every order of three appears about equally often (seeded LCG, loose bounds).
  let seed = 12345;
  const lcg = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
  const counts = new Map<string, number>();
  for (let i = 0; i < 6000; i++) {
    const key = shuffled(['a', 'b', 'c'], lcg).join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  t.equal(counts.size, 6, 'all 6 orders occur');
  for (const [order, n] of counts) t.ok(n > 850 && n < 1150, `${order} occurs ${n} times of 6000`);
});

t.test('shuffled XML: same servers, order from the random source, region untouched', async (t) => {
  const xml = renderRegionXml(mixed, { shuffle: true, random: replay(0) });
  t.equal(
    xml,
    '<regionSMTdata>' +
      '<smtInfo SMTserverIP="None" SMTserverIPv6="2001:db8::2" SMTserverName="b.net" SMTregistryName="rb.net" fingerprint="02" region="mixed"/>' +
      '<smtInfo SMTserverIP="192.0.2.3" SMTserverIPv6="2001:db8::3" SMTserverName="c.net" SMTregistryName="rc.net" fingerprint="03" region="mixed"/>' +
      '<smtInfo SMTserverIP="192.0.2.1" SMTserverName="a.net" SMTregistryName="ra.net" fingerprint="01" region="mixed"/>' +
      '</regionSMTdata>',
  );
  t.strictSame(
    mixed.servers.map((s) => s.name),
    ['a.net', 'b.net', 'c.net'],
  );
  t.equal(renderRegionXml(mixed, { shuffle: false, random: replay(0) }), xmlCases[3].xml, 'shuffle: false ignores random');
});

t.test('JSON rendering of the same data', async (t) => {
  t.equal(
    renderRegionJson(mixed),
    '{"region":"mixed","servers":[' +
      '{"ip":"192.0.2.1","ipv6":null,"name":"a.net","registryName":"ra.net","fingerprint":"01"},' +
      '{"ip":null,"ipv6":"2001:db8::2","name":"b.net","registryName":"rb.net","fingerprint":"02"},' +
      '{"ip":"192.0.2.3","ipv6":"2001:db8::3","name":"c.net","registryName":"rc.net","fingerprint":"03"}]}',
  );
  t.strictSame(regionToJson(dual).region, 'eu-central-1');
  t.strictSame(
    regionToJson(mixed, { shuffle: true, random: replay(0) }).servers.map((s) => s.name),
    ['b.net', 'c.net', 'a.net'],
    'the same shuffle as the XML',
  );
});

t.test('unfrozen (hand-built) regions are rendered afresh each time', async (t) => {
  const region = {
    name: 'r',
    publicIps: [],
    publicIpsV6: [],
    servers: [{ ip: '192.0.2.1', name: 'a', registryName: 'b', fingerprint: 'c' }],
  };
  t.match(renderRegionXml(region), /SMTserverName="a"/);
  region.servers[0].name = 'changed';
  t.match(renderRegionXml(region), /SMTserverName="changed"/);
});

t.test('escapeXmlAttribute', async (t) => {
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['a&b', 'a&amp;b'],
    ['<>', '&lt;&gt;'],
    ['"', '&quot;'],
    ["'", "'"],
    ['\r\n\t', '&#13;&#10;&#9;'],
    ['', ''],
  ];
  for (const [input, expected] of cases)
    await t.test(JSON.stringify(input), async (t) => t.equal(escapeXmlAttribute(input), expected, 'escaped'));
});
