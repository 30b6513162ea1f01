import type { JsonSchema } from '../../core/plugin-api';

/** One internal location: where paths under its prefix are fetched from. */
export interface LocationOptions {
  upstream?: string;
  target?: string;
  stripPrefix: boolean;
}

/** Options of the `accel-redirect` plugin (after defaults). */
export interface AccelRedirectOptions {
  locations: Record<string, LocationOptions>;
  keepHeaders: string[];
}

/** What nginx carries over from the redirecting answer (its `ngx_http_upstream_headers_in` "redirect" flags). */
export const DEFAULT_KEEP_HEADERS = ['content-type', 'content-disposition', 'set-cookie', 'cache-control', 'expires', 'accept-ranges'];

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['locations'],
  description:
    'Act as nginx for X-Accel-Redirect: an upstream answer carrying X-Accel-Redirect: /path is replaced by that path, ' +
    'fetched from the internal location its prefix maps to and streamed to the client. Internal prefixes answer 404 to clients.',
  properties: {
    locations: {
      type: 'object',
      minProperties: 1,
      description: 'Internal locations: path prefix (e.g. /archivei_accel/) → where to fetch it. The longest matching prefix wins.',
      propertyNames: { pattern: '^/[^\\s?#]*$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        oneOf: [{ required: ['upstream'] }, { required: ['target'] }],
        properties: {
          upstream: { type: 'string', minLength: 1, description: 'A declared upstream name (give this or target).' },
          target: { type: 'string', format: 'uri', pattern: '^https?://', description: 'An http(s) base URL (give this or upstream).' },
          stripPrefix: {
            type: 'boolean',
            default: true,
            description:
              "Remove the prefix before fetching (/archivei_accel/42 → /42), like nginx's `proxy_pass http://archive/;`. Default: true.",
          },
        },
      },
    },
    keepHeaders: {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" },
      default: DEFAULT_KEEP_HEADERS,
      description:
        'Headers of the redirecting answer kept on the final one unless the internal answer sets its own (only on internal answers below 400). ' +
        `Default: [${DEFAULT_KEEP_HEADERS.join(', ')}] (what nginx keeps).`,
    },
  },
};
