import { isIPv4, isIPv6 } from 'node:net';
import IPCIDR from 'ip-cidr';
import t from 'tap';
import { formatIPv6, parseIPv4, parseIPv6 } from '../../core/net/ip-parse';
import { PrefixTable, PrefixTableError, buildPrefixTable, parseCidr } from '../../core/net/prefix-table';
import { prng } from '../helpers/config-mutations';

interface LookupCase {
  description: string;
  prefixes: [string, string][];
  lookups: [ip: string, expected: string | undefined][];
}

const lookupCases: LookupCase[] = [
  {
    description: 'IPv4: inside, at both edges of, and just outside a prefix',
    prefixes: [['192.0.2.0/24', 'a']],
    lookups: [
      ['192.0.2.77', 'a'],
      ['192.0.2.0', 'a'],
      ['192.0.2.255', 'a'],
      ['192.0.1.255', undefined],
      ['192.0.3.0', undefined],
    ],
  },
  {
    description: 'overlapping prefixes: /16 beats /8 whatever the insertion order',
    prefixes: [
      ['10.1.0.0/16', 'sixteen'],
      ['10.0.0.0/8', 'eight'],
    ],
    lookups: [
      ['10.1.2.3', 'sixteen'],
      ['10.2.2.3', 'eight'],
      ['10.1.255.255', 'sixteen'],
      ['11.0.0.0', undefined],
    ],
  },
  {
    description: 'nested prefixes with lengths that are not multiples of 4',
    prefixes: [
      ['10.0.0.0/8', '8'],
      ['10.0.0.0/9', '9'],
      ['10.64.0.0/10', '10'],
      ['10.96.0.0/11', '11'],
      ['10.96.0.0/13', '13'],
      ['10.97.0.0/16', '16'],
      ['10.97.1.2/31', '31'],
    ],
    lookups: [
      ['10.1.1.1', '9'],
      ['10.128.0.0', '8'],
      ['10.64.0.1', '10'],
      ['10.95.255.255', '10'],
      ['10.96.0.1', '13'],
      ['10.97.0.1', '16'],
      ['10.97.1.2', '31'],
      ['10.97.1.3', '31'],
      ['10.97.1.4', '16'],
      ['10.104.0.0', '11'],
    ],
  },
  {
    description: 'IPv4 /0 matches every IPv4 address but no IPv6 one',
    prefixes: [
      ['0.0.0.0/0', 'any4'],
      ['198.51.100.0/24', 'doc'],
    ],
    lookups: [
      ['0.0.0.0', 'any4'],
      ['255.255.255.255', 'any4'],
      ['198.51.100.9', 'doc'],
      ['2001:db8::1', undefined],
    ],
  },
  {
    description: 'IPv4 /32 matches exactly one address; a bare address means /32',
    prefixes: [
      ['203.0.113.7/32', 'host'],
      ['203.0.113.9', 'bare'],
    ],
    lookups: [
      ['203.0.113.7', 'host'],
      ['203.0.113.6', undefined],
      ['203.0.113.8', undefined],
      ['203.0.113.9', 'bare'],
    ],
  },
  {
    description: 'IPv6: overlapping prefixes, longest wins',
    prefixes: [
      ['2001:db8::/32', '32'],
      ['2001:db8:1::/48', '48'],
      ['2001:db8:1:2::/64', '64'],
    ],
    lookups: [
      ['2001:db8::1', '32'],
      ['2001:db8:1::1', '48'],
      ['2001:db8:1:2:ffff:ffff:ffff:ffff', '64'],
      ['2001:db8:1:3::', '48'],
      ['2001:DB8:FFFF::1', '32'],
      ['2001:db9::', undefined],
    ],
  },
  {
    description: 'IPv6 ::/0 and /128 edges',
    prefixes: [
      ['::/0', 'any6'],
      ['2001:db8::1/128', 'host'],
      ['::1', 'loopback'],
    ],
    lookups: [
      ['2001:db8::1', 'host'],
      ['2001:db8::2', 'any6'],
      ['::', 'any6'],
      ['::1', 'loopback'],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'any6'],
      ['10.0.0.1', undefined],
    ],
  },
  {
    description: 'IPv4-mapped IPv6 addresses are looked up as IPv4 in any spelling',
    prefixes: [
      ['10.0.0.0/8', 'v4'],
      ['::/0', 'any6'],
    ],
    lookups: [
      ['::ffff:10.1.2.3', 'v4'],
      ['::FFFF:10.1.2.3', 'v4'],
      ['::ffff:a01:203', 'v4'],
      ['0:0:0:0:0:ffff:10.1.2.3', 'v4'],
      ['::ffff:11.1.2.3', undefined],
      ['::fffe:10.1.2.3', 'any6'],
    ],
  },
  {
    description: 'an IPv4-mapped IPv6 prefix matches IPv4 clients',
    prefixes: [['::ffff:192.0.2.0/120', 'mapped']],
    lookups: [
      ['192.0.2.1', 'mapped'],
      ['::ffff:192.0.2.1', 'mapped'],
      ['192.0.3.1', undefined],
    ],
  },
  {
    description: 'IPv6 with an embedded IPv4 tail and with a zone id',
    prefixes: [
      ['64:ff9b::/96', 'nat64'],
      ['fe80::/10', 'link-local'],
    ],
    lookups: [
      ['64:ff9b::192.0.2.33', 'nat64'],
      ['fe80::1%eth0', 'link-local'],
      ['fe80::1%', undefined],
    ],
  },
  {
    description: 'invalid input never matches and never throws, even with /0 present',
    prefixes: [
      ['0.0.0.0/0', 'any4'],
      ['::/0', 'any6'],
    ],
    lookups: [
      ['', undefined],
      ['garbage', undefined],
      ['1.2.3', undefined],
      ['1.2.3.4.5', undefined],
      ['256.1.1.1', undefined],
      ['01.2.3.4', undefined],
      [' 1.2.3.4', undefined],
      ['1.2.3.4 ', undefined],
      ['1.2.3.4/32', undefined],
      ['1::2::3', undefined],
      ['12345::', undefined],
      ['::g', undefined],
      [':::', undefined],
      ['1:2:3:4:5:6:7:8:9', undefined],
      ['::ffff:1.2.3.256', undefined],
      ['1.2.3.4::', undefined],
    ],
  },
];

t.test('lookup', async (t) => {
  for (const c of lookupCases) {
    t.test(c.description, async (t) => {
      const table = buildPrefixTable(c.prefixes);
      for (const [ip, expected] of c.lookups) t.equal(table.lookup(ip), expected, `lookup(${JSON.stringify(ip)})`);
    });
  }
});

t.test('lookup of a non-string returns undefined', async (t) => {
  const table = buildPrefixTable([['0.0.0.0/0', 'x']]);
  for (const v of [undefined, null, 42, {}])
    await t.test(JSON.stringify(v) ?? 'undefined', async (t) => t.equal(table.lookup(v as unknown as string), undefined, 'no value'));
});

const cidrCases: { description: string; cidr: string; canonical?: string; error?: RegExp }[] = [
  { description: 'IPv4 network', cidr: '10.0.0.0/8', canonical: '10.0.0.0/8' },
  { description: 'IPv6 network, upper case and uncompressed', cidr: '2001:DB8:0:0:0:0:0:0/32', canonical: '2001:db8::/32' },
  { description: 'bare IPv4 address', cidr: '192.0.2.1', canonical: '192.0.2.1/32' },
  { description: 'bare IPv6 address', cidr: '2001:db8::1', canonical: '2001:db8::1/128' },
  { description: 'IPv4-mapped IPv6 prefix keeps its spelling', cidr: '::ffff:10.0.0.0/104', canonical: '::ffff:10.0.0.0/104' },
  { description: 'leading zero in the length', cidr: '10.0.0.0/08', canonical: '10.0.0.0/8' },
  { description: '/0', cidr: '0.0.0.0/0', canonical: '0.0.0.0/0' },
  { description: 'prefix too long for IPv4', cidr: '10.0.0.0/33', error: /Invalid CIDR "10\.0\.0\.0\/33": prefix length 33 exceeds 32/ },
  { description: 'prefix too long for IPv6', cidr: '::/129', error: /prefix length 129 exceeds 128/ },
  { description: 'host bits set', cidr: '10.0.0.1/8', error: /host bits are set .*network is 10\.0\.0\.0\/8/ },
  { description: 'IPv6 host bits set', cidr: '2001:db8::1/32', error: /network is 2001:db8::\/32/ },
  { description: 'not an address', cidr: 'example.com/24', error: /"example\.com" is not an IPv4 or IPv6 address/ },
  { description: 'short IPv4', cidr: '10.0.0/8', error: /is not an IPv4 or IPv6 address/ },
  { description: 'IPv4 octet out of range', cidr: '10.0.0.256/32', error: /is not an IPv4/ },
  { description: 'IPv4 leading zero', cidr: '010.0.0.0/8', error: /is not an IPv4/ },
  { description: 'empty length', cidr: '10.0.0.0/', error: /prefix length "" is not a number/ },
  { description: 'negative length', cidr: '10.0.0.0/-1', error: /is not a number/ },
  { description: 'two slashes', cidr: '10.0.0.0/8/9', error: /is not a number/ },
  { description: 'whitespace', cidr: ' 10.0.0.0/8', error: /is not an IPv4/ },
  { description: 'zone id', cidr: 'fe80::%eth0/64', error: /without a zone id/ },
  { description: 'empty string', cidr: '', error: /Invalid CIDR ""/ },
];

t.test('parseCidr', async (t) => {
  for (const c of cidrCases) {
    await t.test(c.description, async (t) => {
      if (c.error)
        t.throws(() => parseCidr(c.cidr), { name: 'PrefixTableError', code: 'INVALID_CIDR', cidr: c.cidr, message: c.error }, 'refused');
      else t.equal(parseCidr(c.cidr).canonical, c.canonical, 'canonical form');
    });
  }
  t.throws(() => new PrefixTable().add('10.0.0.0/33', 'x'), PrefixTableError, 'add validates too');
});

t.test('duplicates, however written, are rejected with the existing value', async (t) => {
  const cases: [string, string][] = [
    ['10.0.0.0/8', '10.0.0.0/08'],
    ['2001:db8::/32', '2001:DB8:0::/32'],
    ['10.0.0.0/8', '::ffff:10.0.0.0/104'],
    ['192.0.2.1', '192.0.2.1/32'],
  ];
  for (const [first, second] of cases) {
    await t.test(`${first} then ${second}`, async (t) => {
      const table = new PrefixTable<string>();
      table.add(first, 'first');
      t.throws(() => table.add(second, 'second'), { code: 'DUPLICATE_PREFIX', cidr: second, existing: 'first' }, 'refused');
      t.equal(table.size, 1, 'the first one stays alone');
    });
  }
});

t.test('get returns the exact prefix only; adding after a lookup recompiles', async (t) => {
  const table = new PrefixTable<string>();
  table.add('10.0.0.0/8', 'a');
  t.equal(table.lookup('10.1.1.1'), 'a');
  table.add('10.1.0.0/16', 'b');
  t.equal(table.lookup('10.1.1.1'), 'b');
  t.equal(table.get('10.0.0.0/8'), 'a');
  t.equal(table.get('10.1.0.0/16'), 'b');
  t.equal(table.get('10.2.0.0/16'), undefined);
  t.equal(table.size, 2);
  t.ok(table.stats.nodes >= 2);
});

t.test('agrees with a linear scan using ip-cidr on random overlapping prefixes', async (t) => {
  const rnd = prng(7);
  const u32 = (): number => Math.floor(rnd() * 2 ** 32) >>> 0;
  const mask = (len: number): number => (len <= 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0);
  const v4 = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  const v6 = (w: number[]): string => formatIPv6(w);
  // Few bases so that prefixes nest and overlap a lot.
  const bases4 = [0x0a000000, 0xc0a80000, 0xac100000];
  const bases6 = [
    [0x20010db8, 0, 0, 0],
    [0x2a050000, 0x12340000, 0, 0],
  ];
  const prefixes = new Map<string, number>();
  while (prefixes.size < 300) {
    const isV4 = rnd() < 0.5;
    const len = isV4 ? Math.floor(rnd() * 33) : Math.floor(rnd() * 129);
    const base = isV4
      ? [bases4[Math.floor(rnd() * 3)] ^ (u32() & 0x0003ffff)]
      : bases6[Math.floor(rnd() * 2)].map((w) => (w ^ (u32() & 0x0000ffff)) >>> 0);
    const words = base.map((w, i) => (w & mask(len - 32 * i)) >>> 0);
    const cidr = `${isV4 ? v4(words[0]) : v6(words)}/${len}`;
    if (!prefixes.has(cidr)) prefixes.set(cidr, prefixes.size);
  }
  const table = buildPrefixTable(prefixes);
  const oracle = [...prefixes].map(([cidr, id]) => ({ c: new IPCIDR(cidr), len: Number(cidr.split('/')[1]), id, v6: cidr.includes(':') }));
  let checked = 0;
  for (let i = 0; i < 400; i++) {
    const isV4 = rnd() < 0.5;
    const addr = isV4
      ? v4((bases4[Math.floor(rnd() * 3)] ^ (u32() & 0x0007ffff)) >>> 0)
      : v6(bases6[Math.floor(rnd() * 2)].map((w) => (w ^ (u32() & 0x0001ffff)) >>> 0));
    let best: { len: number; id: number } | undefined;
    for (const o of oracle) if (o.v6 === !isV4 && (!best || o.len > best.len) && o.c.contains(addr)) best = o;
    if (table.lookup(addr) !== best?.id) t.fail(`lookup(${addr}) = ${table.lookup(addr)}, linear scan says ${best?.id}`);
    checked++;
  }
  t.equal(checked, 400, 'all lookups agree');
});

t.test('agrees with brute force on thousands of clustered prefixes of every length', async (t) => {
  // Clustered so that the trie gets deep shared paths, single-prefix leaves, and leaves whose
  // prefix does not match (falling back to a shorter prefix).
  const rnd = prng(23);
  const u32 = (): number => Math.floor(rnd() * 2 ** 32) >>> 0;
  const mask = (len: number): number => (len <= 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0);
  const near = (base: number[], bits: number): number[] =>
    base.map((w, i) => (w ^ (i === base.length - 1 ? u32() & (mask(32 - bits) >>> 0) : 0) ^ (rnd() < 0.3 ? u32() & 0xff : 0)) >>> 0);
  const bases = [[0x0a000000], [0xc0000200], [0x20010db8, 0, 0, 0], [0x20010db8, 0x00010002, 0, 0], [0x2a050000, 0, 0, 0x00000100]];
  const entries = new Map<string, { words: number[]; len: number; id: number }>();
  while (entries.size < 3000) {
    const base = bases[Math.floor(rnd() * bases.length)];
    const max = base.length === 1 ? 32 : 128;
    const len = Math.floor(rnd() * (max + 1));
    const words = near(base, Math.floor(rnd() * 20)).map((w, i) => (w & mask(len - 32 * i)) >>> 0);
    const text = `${base.length === 1 ? `${words[0] >>> 24}.${(words[0] >>> 16) & 255}.${(words[0] >>> 8) & 255}.${words[0] & 255}` : formatIPv6(words)}/${len}`;
    if (!entries.has(text)) entries.set(text, { words, len, id: entries.size });
  }
  const table = buildPrefixTable([...entries].map(([text, e]) => [text, e.id] as const));
  const all = [...entries.values()];
  let hits = 0;
  for (let i = 0; i < 4000; i++) {
    const base = bases[Math.floor(rnd() * bases.length)];
    const addr = near(base, Math.floor(rnd() * 24));
    let best: { len: number; id: number } | undefined;
    for (const e of all) {
      if (e.words.length !== addr.length || (best && e.len <= best.len)) continue;
      if (e.words.every((w, k) => (addr[k] & mask(e.len - 32 * k)) >>> 0 === w)) best = e;
    }
    const got = addr.length === 1 ? table.lookupV4(addr[0]) : table.lookupV6(addr);
    if (got !== best?.id) t.fail(`lookup of ${addr.map((w) => w.toString(16)).join(':')}: trie ${got}, brute force ${best?.id}`);
    if (best) hits++;
  }
  t.ok(hits > 2000, `${hits} of 4000 lookups matched something`);
  t.ok(table.stats.leaves > 0 && table.stats.nodes > 100, `trie shape: ${JSON.stringify(table.stats)}`);
});

t.test('the hand-written parsers accept exactly what net.isIPv4 / net.isIPv6 accept', async (t) => {
  const rnd = prng(11);
  const pick = (s: string): string => s[Math.floor(rnd() * s.length)];
  const hexGroup = (): string =>
    Math.floor(rnd() * 65536)
      .toString(16)
      .slice(0, 1 + Math.floor(rnd() * 4));
  const samples: string[] = [];
  for (let i = 0; i < 3000; i++) {
    // Structurally plausible addresses, then a random mutation half of the time.
    const octets = Array.from({ length: 4 }, () => String(Math.floor(rnd() * 300)));
    const groups = Array.from({ length: 8 }, hexGroup);
    const kind = Math.floor(rnd() * 4);
    // Compressed forms keep at most 7 groups (6 with an IPv4 tail), sometimes one too many.
    const room = kind === 3 ? 6 : 8;
    const head = Math.floor(rnd() * room);
    const tail = Math.floor(rnd() * (room - head + (rnd() < 0.1 ? 1 : 0)));
    const v4tail = kind === 3 ? (tail > 0 || head > 0 ? ':' : '') + octets.join('.') : '';
    let s =
      kind === 0
        ? octets.join('.')
        : kind === 1
          ? groups.join(':')
          : rnd() < 0.3 && kind === 3
            ? `${groups.slice(0, 6).join(':')}:${octets.join('.')}`
            : `${groups.slice(0, head).join(':')}::${groups.slice(head, head + tail).join(':')}${tail > 0 ? v4tail : v4tail.replace(/^:/, '')}`;
    if (rnd() < 0.1) s += `%${pick('eth0-.:_ %')}${pick('abc01')}`;
    if (rnd() < 0.5) {
      const at = Math.floor(rnd() * (s.length + 1));
      const op = Math.floor(rnd() * 3);
      const c = pick('0123456789abcdefABCDEFg:.% -');
      s = op === 0 ? s.slice(0, at) + c + s.slice(at) : op === 1 ? s.slice(0, at) + s.slice(at + 1) : s.slice(0, at) + c + s.slice(at + 1);
    }
    samples.push(s);
  }
  // Plus short strings from colon-heavy alphabets, where the corner cases of "::" live.
  for (let i = 0; i < 20000; i++) {
    let s = '';
    const alphabet = i % 2 === 0 ? '0123456789..:' : '0f1:::a.%2e';
    for (let k = Math.floor(rnd() * 16); k > 0; k--) s += pick(alphabet);
    samples.push(s);
  }
  samples.push(
    '',
    '::',
    ':',
    ':::',
    '::1',
    '1::',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8::',
    '::ffff:1.2.3.4',
    '::1.2.3.4',
    '1.2.3.4::',
    'fe80::1%',
    'fe80::1%a%b',
    '0.0.0.0',
    '255.255.255.255',
    '00.0.0.0',
    '1..2.3',
    '.1.2.3',
    '1.2.3.',
  );
  let valid4 = 0;
  let valid6 = 0;
  const words = new Uint32Array(4);
  for (const s of samples) {
    const ok4 = parseIPv4(s) >= 0;
    const ok6 = parseIPv6(s, words);
    if (ok4 !== isIPv4(s)) t.fail(`parseIPv4(${JSON.stringify(s)}) says ${ok4}, net.isIPv4 says ${isIPv4(s)}`);
    if (ok6 !== isIPv6(s)) t.fail(`parseIPv6(${JSON.stringify(s)}) says ${ok6}, net.isIPv6 says ${isIPv6(s)}`);
    if (ok4) {
      valid4++;
      t.equal(BigInt(parseIPv4(s)), IPCIDR.formatIP<bigint>(IPCIDR.createAddress(s), { type: 'bigInteger' }), `value of ${s}`);
    }
    if (ok6) valid6++;
    // ip-cidr turns any address with a dotted tail into plain IPv4, and rejects zone ids, so
    // only pure hex forms can be compared; the tail forms are covered by the lookup cases.
    if (ok6 && !s.includes('%') && !s.includes('.')) {
      const expected = IPCIDR.formatIP<bigint>(IPCIDR.createAddress(s), { type: 'bigInteger' });
      const got = [...words].reduce((acc, w) => (acc << 32n) | BigInt(w), 0n);
      if (got !== expected) t.equal(got, expected, `value of ${s}`);
    }
  }
  t.ok(valid4 > 200 && valid6 > 500, `enough valid samples (${valid4} IPv4, ${valid6} IPv6)`);
});

t.test('formatIPv6 follows RFC 5952', async (t) => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['::ffff:c000:0201', '::ffff:192.0.2.1'],
  ];
  const words = new Uint32Array(4);
  for (const [input, expected] of cases) {
    await t.test(input, async (t) => {
      t.ok(parseIPv6(input, words), 'parsed');
      t.equal(formatIPv6(words), expected, 'formatted');
    });
  }
});
