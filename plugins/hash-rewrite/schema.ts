import { MAX_DURATION_MS, type JsonSchema } from '../../core/plugin-api';

/** Hex digest length of every hash type the plugin knows (hashlib names, as Pacifica stores them). */
export const HASH_LENGTHS: Readonly<Record<string, number>> = Object.freeze({
  md5: 32,
  sha1: 40,
  sha224: 56,
  sha256: 64,
  sha384: 96,
  sha512: 128,
  'sha3-224': 56,
  'sha3-256': 64,
  'sha3-384': 96,
  'sha3-512': 128,
  blake2b: 128,
  blake2s: 64,
});

export const DEFAULT_HASH_TYPES = ['md5', 'sha1', 'sha256', 'sha512'];

/** Options of the `hash-rewrite` plugin (after defaults). */
export interface HashRewriteOptions {
  metadata: string;
  mode: 'stream' | 'x-accel';
  archive?: string;
  accelPrefix: string;
  path: string;
  hashTypes: string[];
  timeout: number;
  cache: { max: number; ttl: number; negativeTtl: number };
  fallthrough: boolean;
  statusPath?: string;
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['metadata'],
  description:
    'Serve archived files by hash (the Pacifica proxy): GET/HEAD /files/<hashtype>/<hashsum> is looked up in the metadata service, ' +
    'then streamed from the archive (mode: stream) or handed to nginx/accel-redirect with X-Accel-Redirect (mode: x-accel).',
  properties: {
    metadata: {
      type: 'string',
      format: 'uri',
      pattern: '^https?://',
      description:
        'Base URL of the metadata service; a file is looked up with GET {metadata}/files?hashsum=<sum>&hashtype=<type>. Required.',
    },
    mode: {
      enum: ['stream', 'x-accel'],
      default: 'stream',
      description:
        'stream: gatehouse streams the file from the archive. x-accel: answer with an empty body and X-Accel-Redirect: <accelPrefix>/<_id> ' +
        'for nginx (or the accel-redirect plugin) in front. Default: stream.',
    },
    archive: {
      type: 'string',
      minLength: 1,
      description:
        'The archive: a declared upstream name or an http(s) base URL; the file is GET {archive}/<_id>. Required in stream mode, unused in x-accel mode.',
    },
    accelPrefix: {
      // It becomes part of the X-Accel-Redirect header: visible ASCII only, as Node takes in a header value.
      type: 'string',
      pattern: '^/[!\\x22$-\\x3e@-~]*$',
      default: '/archivei_accel',
      errorMessage: 'an absolute path of visible ASCII characters (percent-encode others), without spaces, ? or #',
      description: 'x-accel mode: prefix of the X-Accel-Redirect path (an nginx internal location). Default: /archivei_accel.',
    },
    path: {
      type: 'string',
      pattern: '^/(?=.*:hashtype)(?=.*:hashsum)',
      default: '/files/:hashtype/:hashsum',
      description: 'Request path pattern; :hashtype and :hashsum each stand for one path segment. Default: /files/:hashtype/:hashsum.',
    },
    hashTypes: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      default: DEFAULT_HASH_TYPES,
      items: { enum: Object.keys(HASH_LENGTHS) },
      description: `Accepted hash types; the sum must be hex of the type's length. Default: [${DEFAULT_HASH_TYPES.join(', ')}].`,
    },
    timeout: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_DURATION_MS,
      default: 5000,
      description: `Milliseconds allowed for one metadata lookup (connect, answer and body); beyond it the client gets a 504. At most ${MAX_DURATION_MS}. Default: 5000.`,
    },
    cache: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'LRU cache of lookups. Concurrent lookups of one uncached hash always share one metadata call.',
      properties: {
        max: { type: 'integer', minimum: 0, default: 10000, description: 'Most lookups kept (0 disables the cache). Default: 10000.' },
        ttl: {
          type: 'integer',
          minimum: 1,
          maximum: MAX_DURATION_MS,
          default: 300000,
          description: `Milliseconds a found file is cached. At most ${MAX_DURATION_MS}. Default: 300000 (5 minutes).`,
        },
        negativeTtl: {
          type: 'integer',
          minimum: 0,
          maximum: MAX_DURATION_MS,
          default: 30000,
          description: 'Milliseconds a "file does not exist" answer is cached (0: not cached); at most ttl. Default: 30000.',
        },
      },
    },
    fallthrough: {
      type: 'boolean',
      default: false,
      description:
        'Requests whose path does not fit the pattern go on to the rest of the route (its upstream) instead of a 404. Default: false.',
    },
    statusPath: {
      type: 'string',
      pattern: '^/',
      description: 'Exact path answered with a JSON "up and running" message, like the original proxy\'s GET /. Default: none.',
    },
  },
  if: { properties: { mode: { const: 'x-accel' } }, required: ['mode'] },
  else: { required: ['archive'] },
};
