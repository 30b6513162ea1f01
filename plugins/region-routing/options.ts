import { anyCase, FRAMING_HEADERS, HEADER_NAME_PATTERN, type JsonSchema } from '../../core/plugin-api';
import type { RegionsOptions } from './regions';
import { regionsOptionsSchema } from './schema';

/** Options of the `region-routing` plugin, after validation and defaults. */
export interface RegionRoutingOptions {
  regions?: RegionsOptions;
  regionsFile?: string;
  watch: boolean;
  mode: 'respond' | 'route';
  path: string;
  hintParam: string;
  shuffle: boolean;
  lineBreaks: boolean;
  upstreams: Record<string, string>;
  fallback?: string;
  header: string;
}

/** Plugin options schema; every default is stated in its description (and in the README). */
export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Region routing: region by regionHint, else by client IP (longest prefix), as SUSE cloud-regionsrv.',
  oneOf: [{ required: ['regions'] }, { required: ['regionsFile'] }],
  properties: {
    regions: regionsOptionsSchema as unknown as JsonSchema,
    regionsFile: {
      type: 'string',
      minLength: 1,
      description: 'A regionData.cfg (INI) file, relative to the config file. Use instead of regions.',
    },
    watch: {
      type: 'boolean',
      default: false,
      description: 'Reload regionsFile when it changes; a bad file keeps the old table. Default: false.',
    },
    mode: {
      enum: ['respond', 'route'],
      default: 'respond',
      description: "respond: answer GET <path> with the region XML/JSON; route: forward to the region's upstream. Default: respond.",
    },
    path: {
      type: 'string',
      pattern: '^/',
      default: '/regionInfo',
      description: 'respond mode: the path answered; other paths pass on. Default: /regionInfo.',
    },
    hintParam: {
      type: 'string',
      minLength: 1,
      default: 'regionHint',
      description: 'Query parameter holding the region hint. Default: regionHint.',
    },
    shuffle: { type: 'boolean', default: true, description: 'Shuffle the server order on every answer, as the original. Default: true.' },
    lineBreaks: {
      type: 'boolean',
      default: true,
      description: 'A newline after <regionSMTdata> and each <smtInfo/>, as the original writes. Default: true.',
    },
    upstreams: {
      type: 'object',
      default: {},
      additionalProperties: { type: 'string' },
      description: 'route mode: region name → upstream name (every region needs one). Default: {}.',
    },
    fallback: { type: 'string', description: 'route mode: upstream for requests that match no region. Default: none (404).' },
    header: {
      type: 'string',
      default: 'x-gatehouse-region',
      pattern: HEADER_NAME_PATTERN,
      not: { pattern: anyCase([...FRAMING_HEADERS, 'host']) },
      errorMessage: `a header name is a token (letters, digits, !#$%&'*+.^_\`|~-), and not host or one of ${FRAMING_HEADERS.join(', ')}`,
      description: 'route mode: request header carrying the region name upstream. Default: x-gatehouse-region.',
    },
  },
};
