import { anyCase, FRAMING_HEADERS, HEADER_NAME_PATTERN, MAX_DURATION_MS, type JsonSchema } from '../../core/plugin-api';
import { ALGORITHMS, type Algorithm } from './algorithms';

/** A secret or a PEM text: inline (write `${ENV}` to take it from the environment) or `{ file }`, relative to the config. */
export type KeySource = string | { readonly file: string };

/** Requests that pass without a token: a path test as a route's `match` has it, and optionally methods. */
export interface ExceptRule {
  readonly path?: string;
  readonly pathExact?: string;
  readonly pathRegex?: string;
  readonly methods?: readonly string[];
}

/** How the Authorization header is read: `Bearer <token>` or a bare token, only `Bearer`, or not at all. */
export type AuthorizationMode = 'bearer-or-raw' | 'bearer' | 'ignore';

/** Options of `jwt-auth`, after validation and defaults. */
export interface JwtAuthOptions {
  algorithms: Algorithm[];
  secret?: KeySource;
  secretEncoding: 'utf8' | 'base64';
  publicKey?: KeySource | KeySource[];
  jwksUrl?: string;
  jwksTimeoutMs: number;
  jwksCooldownMs: number;
  jwksCacheMaxAgeMs: number;
  audience?: string | string[];
  issuer?: string | string[];
  requiredClaims: string[];
  leeway: number;
  maxAge?: number;
  from: { authorization: AuthorizationMode; header?: string; cookie?: string; query?: string };
  except: ExceptRule[];
  forwardClaims: Record<string, string>;
  realm: string;
}

/** Default `leeway`, in seconds: clocks of the issuer and of gatehouse may disagree by this much. */
export const DEFAULT_LEEWAY = 30;

const keySource = (what: string): JsonSchema => ({
  oneOf: [
    { type: 'string', minLength: 1, description: `${what} itself; write "\${NAME}" to take it from the environment.` },
    {
      type: 'object',
      additionalProperties: false,
      required: ['file'],
      properties: { file: { type: 'string', minLength: 1, description: 'A file holding it, relative to the config; read at start.' } },
    },
  ],
});

const duration = (what: string, dflt: number, min: number): JsonSchema => ({
  type: 'integer',
  minimum: min,
  maximum: MAX_DURATION_MS,
  default: dflt,
  description: `${what} At most ${MAX_DURATION_MS}. Default: ${dflt}.`,
});

const oneOrMore = (what: string): JsonSchema => ({
  oneOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } },
  ],
  description: `${what} Default: not checked.`,
});

/** What RFC 6750 allows inside the quoted realm: visible ASCII and space, without `"` or `\`. */
const REALM_PATTERN = '^[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]+$';
/** Header names a claim may not be forwarded in: Node frames the request with them, or they carry the client's credentials. */
const RESERVED_HEADERS = [...FRAMING_HEADERS, 'host', 'authorization', 'cookie'];

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['algorithms'],
  description:
    'Verify a JWT on every request (HS, RS, PS, ES, EdDSA; a secret, PEM public keys or a JWKS URL): 401 with WWW-Authenticate when missing or invalid; the verified claims go to later plugins and optionally upstream as headers.',
  properties: {
    algorithms: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: {
        enum: [...ALGORITHMS],
        errorMessage: `an algorithm gatehouse verifies (${ALGORITHMS.join(', ')}); "none" is never accepted`,
      },
      description: `The algorithms a token may be signed with; any other "alg" in its header is refused. ${ALGORITHMS.join(', ')}; never none. Required.`,
    },
    secret: {
      ...keySource('The HMAC secret'),
      description:
        'HS256/384/512: the shared secret, inline ("${NAME}" from the environment) or { file }. Give exactly one of secret, publicKey, jwksUrl.',
    },
    secretEncoding: {
      enum: ['utf8', 'base64'],
      default: 'utf8',
      description: "How the secret's text is turned into key bytes: utf8 (as written) or base64 (decoded). Default: utf8.",
    },
    publicKey: {
      oneOf: [keySource('The PEM text'), { type: 'array', minItems: 1, items: keySource('The PEM text') }],
      description:
        'RS/PS/ES/EdDSA: PEM public keys or certificates (several blocks in one text or file, or a list of them; a token may be signed by any), inline or { file }. Give exactly one of secret, publicKey, jwksUrl.',
    },
    jwksUrl: {
      type: 'string',
      format: 'uri',
      pattern: '^https?://',
      description:
        'RS/PS/ES/EdDSA: a JSON Web Key Set URL; its keys are cached, and fetched again when a token names an unknown kid (at most once per jwksCooldownMs). Give exactly one of secret, publicKey, jwksUrl.',
    },
    jwksTimeoutMs: duration('jwksUrl: milliseconds one fetch of the key set may take.', 5000, 1),
    jwksCooldownMs: duration(
      'jwksUrl: milliseconds after a fetch before a token with an unknown kid (or a failed fetch) causes another.',
      30000,
      0,
    ),
    jwksCacheMaxAgeMs: duration('jwksUrl: milliseconds the fetched keys are used before they are fetched again.', 600000, 1),
    audience: oneOrMore('The "aud" claim must hold one of these.'),
    issuer: oneOrMore('The "iss" claim must be one of these.'),
    requiredClaims: {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'Claims every token must carry (e.g. sub, exp: a token without exp never expires). Default: [].',
    },
    leeway: {
      type: 'integer',
      minimum: 0,
      maximum: 3600,
      default: DEFAULT_LEEWAY,
      description: `Seconds of clock skew allowed on exp, nbf and iat. Default: ${DEFAULT_LEEWAY}.`,
    },
    maxAge: {
      type: 'integer',
      minimum: 1,
      description: 'Seconds since "iat" beyond which a token is refused, whatever its exp (then iat is required). Default: not checked.',
    },
    from: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'Where the token is read. A request carrying different tokens in two of these places is refused (400, RFC 6750 §2). Default: the Authorization header only.',
      properties: {
        authorization: {
          enum: ['bearer-or-raw', 'bearer', 'ignore'],
          default: 'bearer-or-raw',
          description:
            'The Authorization header: "Bearer <token>" or a bare token (bearer-or-raw, as Service Gateway clients send it), only "Bearer <token>" (bearer), or not read (ignore). Default: bearer-or-raw.',
        },
        header: {
          type: 'string',
          pattern: HEADER_NAME_PATTERN,
          description: 'Another request header holding the token (its whole value, or "Bearer <token>"). Default: none.',
        },
        cookie: {
          type: 'string',
          pattern: HEADER_NAME_PATTERN,
          description: 'A cookie holding the token (the first of that name). Default: none.',
        },
        query: { type: 'string', minLength: 1, description: 'A query parameter holding the token. Default: none.' },
      },
    },
    except: {
      type: 'array',
      default: [],
      description:
        'Requests that pass without a token (none is read or checked on them): each rule one of path (prefix, as a route match), pathExact, pathRegex, and optionally methods. Default: [].',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          path: { type: 'string', pattern: '^/', description: 'Path prefix: /a matches /a and /a/x, not /ab; /a/ matches only below it.' },
          pathExact: { type: 'string', pattern: '^/', description: 'Exact path.' },
          pathRegex: { type: 'string', format: 'regex', description: 'Regular expression on the path.' },
          methods: {
            type: 'array',
            minItems: 1,
            items: { type: 'string', pattern: '^[A-Z]+$' },
            description: 'Methods the rule is for; any when absent.',
          },
        },
      },
    },
    forwardClaims: {
      type: 'object',
      default: {},
      propertyNames: { minLength: 1 },
      additionalProperties: {
        type: 'string',
        pattern: HEADER_NAME_PATTERN,
        not: { pattern: anyCase(RESERVED_HEADERS) },
        errorMessage: `a header name is a token (letters, digits, !#$%&'*+.^_\`|~-), and not one of ${RESERVED_HEADERS.join(', ')}`,
      },
      description:
        'Claim → request header sent upstream (e.g. sub: X-User). Headers of these names sent by the client are always removed first, on every request. Default: {}.',
    },
    realm: {
      type: 'string',
      pattern: REALM_PATTERN,
      errorMessage: 'a realm is visible ASCII and spaces, without " or \\',
      default: 'gatehouse',
      description: 'The realm of the WWW-Authenticate challenge (no " or \\). Default: gatehouse.',
    },
  },
};
