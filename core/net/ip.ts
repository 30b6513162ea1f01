import { isIP } from 'node:net';
import type IPCIDR from 'ip-cidr';

/**
 * The ip-cidr class, required on first use: only configs with CIDRs in `trustProxy` need it,
 * and it brings a big-number library along.
 */
export function ipCidr(): typeof IPCIDR {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('ip-cidr') as { default?: typeof IPCIDR } & typeof IPCIDR;
  return mod.default ?? mod; // compiled from an ES module: the class is `exports.default`
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so IPv4 rules apply to dual-stack sockets. */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** The set of trusted proxy networks (`server.trustProxy`). */
export class TrustedProxies {
  private readonly nets: IPCIDR[];
  private readonly exact: Set<string>;

  constructor(entries: readonly string[]) {
    this.exact = new Set(entries.filter((e) => isIP(e)).map(normalizeIp));
    const cidrs = entries.filter((e) => !isIP(e));
    this.nets = cidrs.length ? cidrs.map((e) => new (ipCidr())(e)) : [];
  }

  get empty(): boolean {
    return this.exact.size === 0 && this.nets.length === 0;
  }

  /** Whether an address belongs to a trusted proxy. */
  has(ip: string): boolean {
    if (this.nets.length === 0) return this.exact.has(ip);
    if (this.exact.has(ip)) return true;
    const family = isIP(ip);
    if (!family) return false;
    return this.nets.some((n) => (n.address.v4 ? family === 4 : family === 6) && n.contains(ip));
  }

  /**
   * Client address: the peer, unless the peer is trusted; then the X-Forwarded-For
   * chain is walked right to left and the first untrusted hop is the client.
   */
  clientIp(peer: string, xff: string | string[] | undefined): string {
    if (this.empty || !xff || !this.has(peer)) return peer;
    const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',').map((s) => normalizeIp(s.trim())).filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      if (!isIP(hops[i])) return peer; // a garbled chain is not believed
      if (!this.has(hops[i])) return hops[i];
    }
    return hops[0] ?? peer;
  }
}
