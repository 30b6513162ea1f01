/**
 * JSON Schema (draft 2020-12 / Ajv 8) for regions given in plugin options, the input of
 * `normalizeRegions`. The schema catches shape errors early with positions in the config file;
 * `normalizeRegions` still checks addresses, CIDRs and cross-region rules, which a schema
 * cannot express.
 */

const word = (description: string): Record<string, unknown> => ({
  type: 'string',
  minLength: 1,
  pattern: '^\\S+$',
  description,
});

/** Schema of one update server (`RegionServerOptions`). */
export const regionServerSchema = {
  type: 'object',
  description: 'One update server. Set ip, ipv6 or both.',
  additionalProperties: false,
  required: ['name', 'registryName', 'fingerprint'],
  anyOf: [{ required: ['ip'] }, { required: ['ipv6'] }],
  properties: {
    ip: { type: 'string', description: 'IPv4 address (SMTserverIP). Without it the answer says SMTserverIP="None".' },
    ipv6: { type: 'string', description: 'IPv6 address (SMTserverIPv6); omitted from the answer when unset.' },
    name: word('Host name of the update server (SMTserverName).'),
    registryName: word('Host name of the container registry (SMTregistryName).'),
    fingerprint: word('Fingerprint of the update server certificate that clients pin (fingerprint).'),
  },
} as const;

/** Schema of one region (`RegionOptions`). */
export const regionSchema = {
  type: 'object',
  description: 'One region: the client networks it serves and its update servers.',
  additionalProperties: false,
  required: ['servers'],
  properties: {
    publicIps: {
      type: 'array',
      description: 'IPv4 CIDRs of the clients in this region (public-ips). A bare address means /32.',
      items: { type: 'string', minLength: 1 },
    },
    publicIpsV6: {
      type: 'array',
      description: 'IPv6 CIDRs of the clients in this region (public-ipsv6). A bare address means /128.',
      items: { type: 'string', minLength: 1 },
    },
    servers: {
      type: 'array',
      description: 'Update servers of the region, answered in random order on every request.',
      minItems: 1,
      items: regionServerSchema,
    },
  },
} as const;

/**
 * Schema of the `regions` option (`RegionsOptions`): an object keyed by region name. Hints
 * match names case-insensitively, so names must differ in more than letter case.
 */
export const regionsOptionsSchema = {
  type: 'object',
  description: 'Regions keyed by name. The name is what regionHint matches, case-insensitively.',
  propertyNames: { type: 'string', minLength: 1, pattern: '^\\S(.*\\S)?$' },
  minProperties: 1,
  additionalProperties: regionSchema,
} as const;
