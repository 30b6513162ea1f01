/**
 * The region service's answer: the original's XML, byte for byte, or the same data as JSON.
 */
import type { Region, RegionServer } from './regions';

/** How to render an answer. */
export interface RenderOptions {
  /**
   * Shuffle the servers (Fisher-Yates), as the original did on every request so that clients,
   * which try servers in order, spread their load. Default false: the configured order.
   */
  shuffle?: boolean;
  /** Source of randomness in [0, 1) for the shuffle; tests inject a fixed sequence. Default `Math.random`. */
  random?: () => number;
  /**
   * XML only: a `\n` after `<regionSMTdata>` and after each `<smtInfo …/>`, which is what the
   * published `region_srv.py` emits. Default false: no whitespace between elements.
   */
  lineBreaks?: boolean;
}

/** JSON form of an answer. */
export interface RegionJson {
  /** Region name, lower-cased as in the XML. */
  region: string;
  servers: {
    ip: string | null;
    ipv6: string | null;
    name: string;
    registryName: string;
    fingerprint: string;
  }[];
}

/**
 * Returns a shuffled copy of `items` (Fisher-Yates: every order equally likely when `random`
 * is uniform).
 */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    // min() guards against a random source that returns exactly 1.
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    const tmp = out[i];
    out[i] = out[j];
    out[j] = tmp;
  }
  return out;
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/**
 * Escapes text for a double-quoted XML attribute. Tabs and line breaks become character
 * references because a parser would otherwise normalise them to spaces. (The original did not
 * escape at all; its values never needed it, and valid values here render the same.)
 */
export function escapeXmlAttribute(value: string): string {
  return /[&<>"\t\n\r]/.test(value) ? value.replace(/[&<>"\t\n\r]/g, (c) => XML_ESCAPES[c]) : value;
}

function serverXml(server: RegionServer, region: string): string {
  const esc = escapeXmlAttribute;
  return (
    `<smtInfo SMTserverIP="${server.ip !== undefined ? esc(server.ip) : 'None'}"` +
    (server.ipv6 !== undefined ? ` SMTserverIPv6="${esc(server.ipv6)}"` : '') +
    ` SMTserverName="${esc(server.name)}"` +
    ` SMTregistryName="${esc(server.registryName)}"` +
    ` fingerprint="${esc(server.fingerprint)}"` +
    ` region="${esc(region)}"/>`
  );
}

// Per-server fragments of frozen regions (those from parseRegionFile / normalizeRegions), so
// that a request only shuffles and joins. Unfrozen regions could change, so they are not cached.
const fragmentCache = new WeakMap<Region, Map<RegionServer, string>>();

function fragmentsOf(region: Region): Map<RegionServer, string> {
  let fragments = fragmentCache.get(region);
  if (!fragments) {
    const name = region.name.toLowerCase();
    fragments = new Map(region.servers.map((s) => [s, serverXml(s, name)]));
    if (Object.isFrozen(region)) fragmentCache.set(region, fragments);
  }
  return fragments;
}

function ordered(region: Region, options: RenderOptions | undefined): readonly RegionServer[] {
  return options?.shuffle ? shuffled(region.servers, options.random) : region.servers;
}

/**
 * Renders the XML answer for a region, compatible with the original service:
 * `<regionSMTdata>` + one `<smtInfo SMTserverIP SMTserverIPv6 SMTserverName SMTregistryName
 * fingerprint region/>` per server + `</regionSMTdata>`, attributes in that order, no XML
 * declaration. `SMTserverIPv6` is left out for a server without one and `SMTserverIP` is
 * `"None"` for a server with only IPv6 (Python's rendering of its missing value). The region
 * name is lower-cased, as the original did.
 */
export function renderRegionXml(region: Region, options?: RenderOptions): string {
  const fragments = fragmentsOf(region);
  const nl = options?.lineBreaks ? '\n' : '';
  let xml = `<regionSMTdata>${nl}`;
  for (const server of ordered(region, options)) xml += `${fragments.get(server)}${nl}`;
  return `${xml}</regionSMTdata>`;
}

/** The same data as {@link renderRegionXml}, as an object; a missing address is `null`. */
export function regionToJson(region: Region, options?: RenderOptions): RegionJson {
  return {
    region: region.name.toLowerCase(),
    servers: ordered(region, options).map((s) => ({
      ip: s.ip ?? null,
      ipv6: s.ipv6 ?? null,
      name: s.name,
      registryName: s.registryName,
      fingerprint: s.fingerprint,
    })),
  };
}

/** {@link regionToJson} serialised, for a `application/json` answer. */
export function renderRegionJson(region: Region, options?: RenderOptions): string {
  return JSON.stringify(regionToJson(region, options));
}
