/**
 * The region model shared by both configuration sources (the original `regionData.cfg` and
 * plugin options), the checks they have in common, and the lookup structures built from it.
 * `regions.ts` is the public entry point and re-exports what callers need from here.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { PrefixTable, PrefixTableError, parseCidr } from '../../core/plugin-api';

/** One update server of a region. At least one of `ip` and `ipv6` is set. */
export interface RegionServer {
  /** IPv4 address. */
  readonly ip?: string;
  /** IPv6 address. */
  readonly ipv6?: string;
  /** Host name (`SMTserverName`). */
  readonly name: string;
  /** Container registry host name (`SMTregistryName`). */
  readonly registryName: string;
  /** Certificate fingerprint the client pins (`fingerprint`). */
  readonly fingerprint: string;
}

/** A region: the client networks it serves and its update servers. Frozen once built. */
export interface Region {
  /** Name as configured; hints match it case-insensitively. */
  readonly name: string;
  /** IPv4 CIDRs of the region's clients, canonical form. */
  readonly publicIps: readonly string[];
  /** IPv6 CIDRs of the region's clients, canonical form. */
  readonly publicIpsV6: readonly string[];
  /** At least one. */
  readonly servers: readonly RegionServer[];
}

/** A configuration error; the message names the file (if any), the region and the key. */
export class RegionConfigError extends Error {
  readonly file?: string;
  readonly region?: string;
  readonly key?: string;

  constructor(where: { file?: string; region?: string; key?: string }, detail: string) {
    const at = [where.file, where.region !== undefined ? `region "${where.region}"` : undefined]
      .concat(where.key !== undefined ? `key "${where.key}"` : undefined)
      .filter((s): s is string => s !== undefined);
    super(at.length > 0 ? `${at.join(', ')}: ${detail}` : detail);
    this.name = 'RegionConfigError';
    this.file = where.file;
    this.region = where.region;
    this.key = where.key;
  }
}

/** Where a value came from, for error messages. @internal */
export interface Where {
  file?: string;
  region: string;
}

/** Checks one CIDR list; the result is canonical and free of repeats. @internal */
export function checkCidrs(items: readonly string[], family: 4 | 6, where: Where, key: string): string[] {
  const out = new Set<string>();
  for (const item of items) {
    let canonical: string;
    try {
      canonical = parseCidr(item).canonical;
    } catch (err) {
      throw new RegionConfigError({ ...where, key }, (err as Error).message);
    }
    const written: 4 | 6 = canonical.includes(':') ? 6 : 4;
    if (written !== family) {
      throw new RegionConfigError({ ...where, key }, `"${item}" is an IPv${written} CIDR in an IPv${family} list`);
    }
    out.add(canonical);
  }
  return [...out];
}

/** Checks server addresses with `net.isIPv4` / `net.isIPv6` (no zone ids). @internal */
export function checkAddresses(items: readonly string[], family: 4 | 6, where: Where, key: string): string[] {
  for (const item of items) {
    const ok = family === 4 ? isIPv4(item) : isIPv6(item) && !item.includes('%');
    if (!ok) throw new RegionConfigError({ ...where, key }, `"${item}" is not an IPv${family} address`);
  }
  return [...items];
}

/** Checks a host name or fingerprint: non-empty, no whitespace. @internal */
export function checkWord(value: string, where: Where, key: string): string {
  if (value === '') throw new RegionConfigError({ ...where, key }, 'must not be empty');
  if (/\s/.test(value)) throw new RegionConfigError({ ...where, key }, `"${value}" contains whitespace`);
  return value;
}

/**
 * Checks what no single key can (names and CIDRs unique across regions) and deep-freezes the
 * regions. @internal
 */
export function finishRegions(regions: Region[], file: string | undefined, keys: CidrKeys): Region[] {
  if (regions.length === 0) throw new RegionConfigError({ file }, 'no regions are defined');
  buildRegionNameMap(regions, file);
  buildTable(regions, file, keys);
  for (const r of regions) {
    r.servers.forEach((s) => Object.freeze(s));
    Object.freeze(r.servers);
    Object.freeze(r.publicIps);
    Object.freeze(r.publicIpsV6);
    Object.freeze(r);
  }
  return regions;
}

/**
 * Builds the longest-prefix-match table over every region's IPv4 and IPv6 CIDRs.
 *
 * @param file for error messages only.
 * @throws RegionConfigError for a malformed CIDR or one listed by two regions (the original
 *   silently let the later region win; here it is a configuration error).
 */
export function buildRegionTable(regions: readonly Region[], file?: string): PrefixTable<Region> {
  return buildTable(regions, file, OPTION_KEYS);
}

/** How the CIDR lists are called in error messages: INI keys or option keys. @internal */
export interface CidrKeys {
  v4: string;
  v6: string;
}
/** @internal */
export const OPTION_KEYS: CidrKeys = { v4: 'publicIps', v6: 'publicIpsV6' };

function buildTable(regions: readonly Region[], file: string | undefined, keys: CidrKeys): PrefixTable<Region> {
  const table = new PrefixTable<Region>();
  for (const region of regions) {
    for (const [key, list] of [
      [keys.v4, region.publicIps],
      [keys.v6, region.publicIpsV6],
    ] as const) {
      for (const cidr of list) {
        try {
          table.add(cidr, region);
        } catch (err) {
          if (!(err instanceof PrefixTableError)) throw err;
          if (err.code === 'DUPLICATE_PREFIX') {
            const other = err.existing as Region;
            if (other === region) continue; // listed twice by the same region: harmless
            throw new RegionConfigError({ file, region: region.name, key }, `${err.cidr} is also listed by region "${other.name}"`);
          }
          throw new RegionConfigError({ file, region: region.name, key }, err.message);
        }
      }
    }
  }
  table.compile();
  return table;
}

/**
 * Region lookup by hint: keys are lower-cased names.
 *
 * @throws RegionConfigError when two regions' names differ only in letter case.
 */
export function buildRegionNameMap(regions: readonly Region[], file?: string): ReadonlyMap<string, Region> {
  const map = new Map<string, Region>();
  for (const region of regions) {
    const key = region.name.toLowerCase();
    const other = map.get(key);
    if (other)
      throw new RegionConfigError({ file, region: region.name }, `region names must differ in more than letter case (see "${other.name}")`);
    map.set(key, region);
  }
  return map;
}

/** The region a `regionHint` names (case-insensitively), or undefined when the hint is missing, empty or unknown. */
export function findRegionByHint(names: ReadonlyMap<string, Region>, hint: string | null | undefined): Region | undefined {
  return hint ? names.get(hint.toLowerCase()) : undefined;
}
