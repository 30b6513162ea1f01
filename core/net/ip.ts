import { isIP } from 'node:net';
import { PrefixTable, PrefixTableError } from './prefix-table';

/** `::ffff:1.2.3.4` → `1.2.3.4`, so IPv4 rules apply to dual-stack sockets. */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** The set of trusted proxy networks (`server.trustProxy`), looked up in core's CIDR trie. */
export class TrustedProxies {
  private readonly table = new PrefixTable<true>();
  readonly empty: boolean;

  /** @throws PrefixTableError for an entry that is neither an address nor a CIDR (validation reports those first). */
  constructor(entries: readonly string[]) {
    for (const e of entries) {
      const family = isIP(e);
      try {
        this.table.add(family ? `${e}/${family === 4 ? 32 : 128}` : e, true);
      } catch (err) {
        // The same network listed twice (however written) is still one network.
        if (!(err instanceof PrefixTableError && err.code === 'DUPLICATE_PREFIX')) throw err;
      }
    }
    this.table.compile();
    this.empty = this.table.size === 0;
  }

  /** Whether an address belongs to a trusted proxy (IPv4-mapped IPv6 counts as IPv4). */
  has(ip: string): boolean {
    return !this.empty && this.table.lookup(ip) === true;
  }

  /**
   * Client address: the peer, unless the peer is trusted; then the X-Forwarded-For
   * chain is walked right to left and the first untrusted hop is the client.
   */
  clientIp(peer: string, xff: string | string[] | undefined, peerTrusted = this.has(peer)): string {
    if (!peerTrusted || !xff) return peer;
    const hops = (Array.isArray(xff) ? xff.join(',') : xff)
      .split(',')
      .map((s) => normalizeIp(s.trim()))
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      if (!isIP(hops[i])) return peer; // a garbled chain is not believed
      if (!this.has(hops[i])) return hops[i];
    }
    return hops[0] ?? peer;
  }
}
