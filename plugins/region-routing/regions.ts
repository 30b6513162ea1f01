/**
 * Regions of the region service, read either from the original `regionData.cfg` (INI) or from
 * plugin options, with the original's validation rules. Both give the same frozen `Region[]`;
 * `buildRegionTable` and `buildRegionNameMap` turn it into the lookup structures.
 */
import { IniSyntaxError, parseIni } from './ini';
import { OPTION_KEYS, RegionConfigError, checkAddresses, checkCidrs, checkWord, finishRegions } from './model';
import type { Region, RegionServer, Where } from './model';

export { RegionConfigError, buildRegionNameMap, buildRegionTable, findRegionByHint } from './model';
export type { Region, RegionServer } from './model';

/** Plugin-options form of one server; see {@link RegionServer}. */
export interface RegionServerOptions {
  ip?: string;
  ipv6?: string;
  name: string;
  registryName: string;
  fingerprint: string;
}

/** Plugin-options form of one region; see {@link Region}. */
export interface RegionOptions {
  publicIps?: string[];
  publicIpsV6?: string[];
  servers: RegionServerOptions[];
}

/** Plugin-options form of all regions, keyed by region name. */
export type RegionsOptions = Record<string, RegionOptions>;

const INI_KEYS = [
  'public-ips',
  'public-ipsv6',
  'smt-server-ip',
  'smt-server-ipv6',
  'smt-server-name',
  'smt-registry-name',
  'smt-fingerprint',
] as const;

/** Splits a comma-separated value; an empty value is an empty list, an empty item an error. */
function splitList(value: string | undefined, where: Where, key: string): string[] {
  if (value === undefined || value.trim() === '') return [];
  const items = value.split(',').map((s) => s.trim());
  if (items.includes('')) throw new RegionConfigError({ ...where, key }, 'has an empty entry (stray comma?)');
  return items;
}

/**
 * Parses a region file in the original `regionData.cfg` format: one INI section per region
 * with `public-ips`, `public-ipsv6` (comma-separated CIDRs, optional), `smt-server-ip`,
 * `smt-server-ipv6` (comma-separated addresses, at least one of the two), and
 * `smt-server-name`, `smt-registry-name`, `smt-fingerprint` (one value shared by all servers,
 * or exactly one per server). Unknown keys are errors, so that a misspelt key is not silently
 * ignored.
 *
 * @param fileName used in error messages only.
 * @throws RegionConfigError naming the file, region and key.
 */
export function parseRegionFile(text: string, fileName: string): Region[] {
  let sections;
  try {
    sections = parseIni(text);
  } catch (err) {
    if (err instanceof IniSyntaxError)
      throw new RegionConfigError({ file: `${fileName}:${err.line}` }, err.message.replace(/^line \d+: /, ''));
    throw err;
  }
  const regions = sections.map((section): Region => {
    const where: Where = { file: fileName, region: section.name };
    for (const [key, entry] of section.entries) {
      if (!(INI_KEYS as readonly string[]).includes(key)) {
        throw new RegionConfigError({ ...where, key }, `unknown key (line ${entry.line}); known keys: ${INI_KEYS.join(', ')}`);
      }
    }
    const list = (key: (typeof INI_KEYS)[number]): string[] => splitList(section.entries.get(key)?.value, where, key);
    const ips = checkAddresses(list('smt-server-ip'), 4, where, 'smt-server-ip');
    const ipsV6 = checkAddresses(list('smt-server-ipv6'), 6, where, 'smt-server-ipv6');
    if (ips.length === 0 && ipsV6.length === 0) {
      throw new RegionConfigError(
        { ...where, key: 'smt-server-ip' },
        'no update server addresses; set smt-server-ip, smt-server-ipv6 or both',
      );
    }
    if (ips.length > 0 && ipsV6.length > 0 && ips.length !== ipsV6.length) {
      throw new RegionConfigError(
        { ...where, key: 'smt-server-ipv6' },
        `${ipsV6.length} IPv6 addresses but ${ips.length} IPv4 addresses in smt-server-ip; both lists must have one entry per server`,
      );
    }
    const count = Math.max(ips.length, ipsV6.length);
    const perServer = (key: 'smt-server-name' | 'smt-registry-name' | 'smt-fingerprint'): string[] => {
      const values = list(key).map((v) => checkWord(v, where, key));
      if (values.length === 1) return new Array<string>(count).fill(values[0]);
      if (values.length === count) return values;
      const why = values.length === 0 ? 'is missing' : `has ${values.length} values for ${count} servers`;
      throw new RegionConfigError({ ...where, key }, `${why}; give one value shared by all servers or exactly one per server`);
    };
    const names = perServer('smt-server-name');
    const registries = perServer('smt-registry-name');
    const fingerprints = perServer('smt-fingerprint');
    const servers: RegionServer[] = [];
    for (let i = 0; i < count; i++) {
      servers.push({
        ...(ips[i] !== undefined ? { ip: ips[i] } : {}),
        ...(ipsV6[i] !== undefined ? { ipv6: ipsV6[i] } : {}),
        name: names[i],
        registryName: registries[i],
        fingerprint: fingerprints[i],
      });
    }
    return {
      name: section.name,
      publicIps: checkCidrs(list('public-ips'), 4, where, 'public-ips'),
      publicIpsV6: checkCidrs(list('public-ipsv6'), 6, where, 'public-ipsv6'),
      servers,
    };
  });
  return finishRegions(regions, fileName, { v4: 'public-ips', v6: 'public-ipsv6' });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: Where, prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new RegionConfigError({ ...where, key: prefix + key }, `unknown key; known keys: ${allowed.join(', ')}`);
    }
  }
}

function stringList(v: unknown, where: Where, key: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
    throw new RegionConfigError({ ...where, key }, 'must be a list of strings');
  }
  return v;
}

function optionString(v: unknown, where: Where, key: string, required: boolean): string | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string') throw new RegionConfigError({ ...where, key }, required ? 'is required (a string)' : 'must be a string');
  return checkWord(v.trim(), where, key);
}

const SERVER_KEYS = ['ip', 'ipv6', 'name', 'registryName', 'fingerprint'] as const;
const REGION_KEYS = ['publicIps', 'publicIpsV6', 'servers'] as const;

/**
 * Validates regions given in plugin options ({@link RegionsOptions}; the JSON Schema is
 * `regionsOptionsSchema`) and returns them in the same form {@link parseRegionFile} does.
 * Servers may mix families freely here (one with only `ipv6`, another with both), which the
 * INI format cannot express.
 *
 * @param source where the options came from (e.g. the configuration file), for error messages.
 * @throws RegionConfigError naming the source, region and key (e.g. `servers[1].ip`).
 */
export function normalizeRegions(fromOptions: unknown, source?: string): Region[] {
  if (!isRecord(fromOptions)) throw new RegionConfigError({ file: source, key: 'regions' }, 'must be an object keyed by region name');
  const regions = Object.entries(fromOptions).map(([name, raw]): Region => {
    const where: Where = { file: source, region: name };
    if (name.trim() === '' || name !== name.trim())
      throw new RegionConfigError(where, 'region names must be non-empty without surrounding whitespace');
    if (!isRecord(raw)) throw new RegionConfigError(where, 'must be an object');
    checkKeys(raw, REGION_KEYS, where, '');
    if (!Array.isArray(raw.servers) || raw.servers.length === 0) {
      throw new RegionConfigError({ ...where, key: 'servers' }, 'must be a non-empty list of servers');
    }
    const servers = raw.servers.map((s: unknown, i): RegionServer => {
      const at = `servers[${i}].`;
      if (!isRecord(s)) throw new RegionConfigError({ ...where, key: `servers[${i}]` }, 'must be an object');
      checkKeys(s, SERVER_KEYS, where, at);
      const ip = optionString(s.ip, where, `${at}ip`, false);
      const ipv6 = optionString(s.ipv6, where, `${at}ipv6`, false);
      if (ip === undefined && ipv6 === undefined) throw new RegionConfigError({ ...where, key: `${at}ip` }, 'set ip, ipv6 or both');
      if (ip !== undefined) checkAddresses([ip], 4, where, `${at}ip`);
      if (ipv6 !== undefined) checkAddresses([ipv6], 6, where, `${at}ipv6`);
      return {
        ...(ip !== undefined ? { ip } : {}),
        ...(ipv6 !== undefined ? { ipv6 } : {}),
        name: optionString(s.name, where, `${at}name`, true) as string,
        registryName: optionString(s.registryName, where, `${at}registryName`, true) as string,
        fingerprint: optionString(s.fingerprint, where, `${at}fingerprint`, true) as string,
      };
    });
    const cidrs = (key: 'publicIps' | 'publicIpsV6', family: 4 | 6): string[] =>
      checkCidrs(
        stringList(raw[key], where, key).map((c) => c.trim()),
        family,
        where,
        key,
      );
    return { name, publicIps: cidrs('publicIps', 4), publicIpsV6: cidrs('publicIpsV6', 6), servers };
  });
  return finishRegions(regions, source, OPTION_KEYS);
}
