import t from 'tap';
import { TrustedProxies } from '../../core/net/ip';

t.test('TrustedProxies.has', async (t) => {
  const cases: { desc: string; entries: string[]; ip: string; want: boolean }[] = [
    { desc: 'no entries trust nobody', entries: [], ip: '127.0.0.1', want: false },
    { desc: 'an exact IPv4 address', entries: ['10.1.2.3'], ip: '10.1.2.3', want: true },
    { desc: 'its neighbour is not trusted', entries: ['10.1.2.3'], ip: '10.1.2.4', want: false },
    { desc: 'inside an IPv4 CIDR', entries: ['10.0.0.0/8'], ip: '10.200.3.4', want: true },
    { desc: 'outside an IPv4 CIDR', entries: ['10.0.0.0/8'], ip: '11.0.0.1', want: false },
    { desc: 'an IPv4-mapped IPv6 peer matches an IPv4 CIDR', entries: ['10.0.0.0/8'], ip: '::ffff:10.0.0.1', want: true },
    { desc: 'an IPv6 CIDR', entries: ['2001:db8::/32'], ip: '2001:db8:1::5', want: true },
    { desc: 'outside an IPv6 CIDR', entries: ['2001:db8::/32'], ip: '2001:db9::1', want: false },
    { desc: 'an exact IPv6 address', entries: ['::1'], ip: '::1', want: true },
    { desc: 'IPv6 written another way', entries: ['2001:db8::1'], ip: '2001:0db8:0:0:0:0:0:1', want: true },
    { desc: 'an IPv4 CIDR does not match IPv6', entries: ['0.0.0.0/0'], ip: '2001:db8::1', want: false },
    { desc: 'the same network twice is fine', entries: ['10.0.0.0/8', '10.0.0.0/8', '10.1.0.0/16'], ip: '10.1.0.1', want: true },
    { desc: 'three CIDRs, the last matches', entries: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], ip: '192.168.7.7', want: true },
    { desc: 'garbage is not trusted', entries: ['10.0.0.0/8'], ip: 'not-an-ip', want: false },
    { desc: 'an empty address is not trusted', entries: ['0.0.0.0/0'], ip: '', want: false },
  ];
  for (const c of cases) t.test(c.desc, async (t) => t.equal(new TrustedProxies(c.entries).has(c.ip), c.want));
});

t.test('TrustedProxies.clientIp walks X-Forwarded-For right to left', async (t) => {
  const trust = new TrustedProxies(['10.0.0.0/8', '::1']);
  const cases: { desc: string; peer: string; xff?: string | string[]; want: string }[] = [
    { desc: 'an untrusted peer is the client', peer: '8.8.8.8', xff: '1.1.1.1', want: '8.8.8.8' },
    { desc: 'a trusted peer without XFF is the client', peer: '10.0.0.1', want: '10.0.0.1' },
    { desc: 'one hop behind a trusted peer', peer: '10.0.0.1', xff: '1.1.1.1', want: '1.1.1.1' },
    { desc: 'trusted hops are skipped', peer: '10.0.0.1', xff: '1.1.1.1, 10.2.2.2, 10.3.3.3', want: '1.1.1.1' },
    { desc: 'the first untrusted hop from the right wins', peer: '::1', xff: '6.6.6.6, 2.2.2.2, 10.3.3.3', want: '2.2.2.2' },
    { desc: 'several XFF headers are one chain', peer: '10.0.0.1', xff: ['3.3.3.3', '10.1.1.1'], want: '3.3.3.3' },
    { desc: 'a garbled hop is not believed', peer: '10.0.0.1', xff: '1.1.1.1, garbage', want: '10.0.0.1' },
    { desc: 'all hops trusted: the leftmost', peer: '10.0.0.1', xff: '10.9.9.9, 10.8.8.8', want: '10.9.9.9' },
  ];
  for (const c of cases) t.test(c.desc, async (t) => t.equal(trust.clientIp(c.peer, c.xff), c.want));
});

t.test('validation accepts exactly what the trusted-proxy table loads', async (t) => {
  const { validateConfig } = await import('../../app');
  const cases: { desc: string; entry: string; refused?: RegExp }[] = [
    { desc: 'a network', entry: '10.0.0.0/8' },
    { desc: 'an address', entry: '10.0.0.1' },
    { desc: 'an IPv6 network', entry: 'fd00::/8' },
    { desc: 'host bits set past the prefix', entry: '10.0.0.1/8', refused: /trustProxy\/0: found "10.0.0.1\/8".*host bits are set/ },
    { desc: 'a prefix too long', entry: '10.0.0.0/33', refused: /exceeds 32/ },
    { desc: 'not an address', entry: 'localhost', refused: /expected an IP address or CIDR/ },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const make = () => validateConfig({ server: { trustProxy: [c.entry] }, routes: [{ plugins: [{ respond: {} }] }] });
      if (c.refused) t.throws(make, { code: 'GH_ERR_CONFIG_INVALID', message: c.refused });
      else t.doesNotThrow(() => new TrustedProxies(make().config.server.trustProxy), 'validated, and the table loads it');
    });
  }
});
