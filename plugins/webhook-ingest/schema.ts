import { HEADER_NAME_PATTERN, MAX_DURATION_MS, type JsonSchema } from '../../core/plugin-api';

/** The presets, each a module under presets/. */
export const PRESETS = ['rockblock', 'standard-webhooks', 'github', 'stripe', 'slack', 'hmac', 'none'] as const;
export type PresetName = (typeof PRESETS)[number];

/** A secret or key: inline text (write `${ENV}` to take it from the environment) or `{ file }`, relative to the config. */
export type SecretSource = string | { readonly file: string };

export const DEFAULT_SCHEDULE = ['1s', '5s', '30s', '2m', '10m', '30m', '1h', '3h'];

/** Options of `webhook-ingest`, after validation and defaults. */
export interface WebhookIngestOptions {
  preset: PresetName;
  limit: number;
  verify: {
    required: boolean;
    secrets: SecretSource[];
    keys?: SecretSource[];
    toleranceSec: number;
    header?: string;
    algorithm: 'sha1' | 'sha256' | 'sha512';
    encoding: 'hex' | 'base64';
    prefix: string;
    allowUnsigned: { imeis: string[]; cidrs: string[] };
  };
  deliver: {
    upstream?: string;
    url?: string;
    path?: string;
    timeoutMs: number;
    concurrency: number;
    ratePerSec: number;
    orderBy?: string;
    passHeaders: string[];
    retryAfterMaxMs: number;
    leaseMs: number;
    pollMs: number;
  };
  retry: { schedule: string[]; jitter: number; maxAgeMs: number };
  circuit: { failures: number; openMs: number };
  dedupe: { windowMs: number; key?: string };
  answer: { status: number; body: string; contentType: string };
}

const duration = (what: string, dflt: number, min = 1): JsonSchema => ({
  type: 'integer',
  minimum: min,
  maximum: MAX_DURATION_MS,
  default: dflt,
  description: `${what} At most ${MAX_DURATION_MS}. Default: ${dflt}.`,
});

const secretSource: JsonSchema = {
  oneOf: [
    { type: 'string', minLength: 1, description: 'The secret itself; write "${NAME}" to take it from the environment.' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['file'],
      properties: { file: { type: 'string', minLength: 1, description: 'A file holding it, relative to the config; read at start.' } },
    },
  ],
};

/** A field of the message: `name` (form or JSON field), `form:name`, `json:a.b`, `header:name`, or `body` (its SHA-256). */
export const FIELD_PATTERN = "^(body|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|(form:|json:)?[^,:\\s][^,\\s]*)$";

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['preset', 'deliver'],
  description:
    'Receive webhooks: verify them on the raw bytes, store them durably, answer the sender, then deliver them to the backend with retries (RockBLOCK, Standard Webhooks, GitHub, Stripe, Slack, HMAC).',
  properties: {
    preset: { enum: [...PRESETS], description: 'How requests are verified and deduplicated. Required.' },
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: 64 * 1024 * 1024,
      default: 1048576,
      description: 'Largest body accepted, in bytes; 413 beyond. Default: 1048576 (1 MiB).',
    },
    verify: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Verification settings of the preset.',
      properties: {
        required: {
          type: 'boolean',
          default: true,
          description:
            'A request that carries nothing to verify (no signature header, no JWT) is refused with 401. false: accepted as unsigned (a signature that is present is still checked). Default: true.',
        },
        secrets: {
          type: 'array',
          items: secretSource,
          default: [],
          description:
            'HMAC presets: the shared secrets, all accepted at once (add the new one, then remove the old: rotation). standard-webhooks: whsec_<base64>. Default: [] (refused by validate for an HMAC preset).',
        },
        keys: {
          type: 'array',
          minItems: 1,
          items: secretSource,
          description:
            'rockblock: PEM public keys a JWT may be signed with (several for rotation). Default: the RockBLOCK key shipped with the plugin (plugins/webhook-ingest/rockblock-public-key.pem).',
        },
        toleranceSec: {
          type: 'integer',
          minimum: 1,
          maximum: 86400,
          default: 300,
          description:
            'standard-webhooks, stripe, slack: how far (seconds, either way) the signed timestamp may be from now. Default: 300.',
        },
        header: {
          type: 'string',
          pattern: HEADER_NAME_PATTERN,
          description: 'hmac: the header holding the signature. Required for hmac.',
        },
        algorithm: { enum: ['sha1', 'sha256', 'sha512'], default: 'sha256', description: 'hmac: the digest. Default: sha256.' },
        encoding: { enum: ['hex', 'base64'], default: 'hex', description: 'hmac: how the signature is written. Default: hex.' },
        prefix: {
          type: 'string',
          default: '',
          description: 'hmac: text before the signature in the header (e.g. "sha256="). Default: "".',
        },
        allowUnsigned: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'rockblock: unsigned posts (no JWT) accepted from these IMEIs or source addresses; the rest refused (401).',
          properties: {
            imeis: { type: 'array', items: { type: 'string', pattern: '^[0-9]{15}$' }, default: [], description: 'Default: [].' },
            cidrs: {
              type: 'array',
              items: { type: 'string', minLength: 1 },
              default: [],
              description: 'Client addresses (after trustProxy). Default: [].',
            },
          },
        },
      },
    },
    deliver: {
      type: 'object',
      additionalProperties: false,
      description: 'Where and how stored messages are delivered.',
      oneOf: [{ required: ['upstream'] }, { required: ['url'] }],
      properties: {
        upstream: {
          type: 'string',
          minLength: 1,
          description:
            'A declared upstream: each attempt goes to the next of its live targets that is healthy and not ejected (weighted round robin; all of them when under half are). Or url.',
        },
        url: { type: 'string', pattern: '^https?://', description: 'A base URL. Or upstream.' },
        path: { type: 'string', pattern: '^/', description: "Path (and query) posted to. Default: the request's path and query." },
        timeoutMs: duration('Milliseconds one delivery attempt may take.', 10000),
        concurrency: {
          type: 'integer',
          minimum: 1,
          maximum: 1024,
          default: 4,
          description: 'Deliveries in flight to the destination at once. Default: 4.',
        },
        ratePerSec: { type: 'number', minimum: 0, default: 0, description: 'Most attempts started per second (0: no limit). Default: 0.' },
        orderBy: {
          type: 'string',
          pattern: FIELD_PATTERN,
          description:
            'A field (e.g. imei): messages with the same value are delivered one at a time, in order; parallel across values. Default: none.',
        },
        passHeaders: {
          type: 'array',
          items: { type: 'string', pattern: HEADER_NAME_PATTERN },
          default: [],
          description: 'Request headers stored and sent on with the body (besides Content-Type). Default: [].',
        },
        retryAfterMaxMs: duration('Longest Retry-After (of a 429 or 503) honoured; longer ones are cut to it.', 3600000),
        leaseMs: duration(
          'How long one delivery holds its message before another process may take it over; at least timeoutMs + 5000.',
          30000,
        ),
        pollMs: duration('How often the queue is looked at when nothing is due.', 250, 10),
      },
    },
    retry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        schedule: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$' },
          default: DEFAULT_SCHEDULE,
          description: `Waits after each failed attempt (ms, s, m, h); past the last, the message is dead. Default: [${DEFAULT_SCHEDULE.join(', ')}].`,
        },
        jitter: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          default: 0.2,
          description: 'Each wait is varied by up to this fraction either way. Default: 0.2.',
        },
        maxAgeMs: duration('A message older than this is dead instead of retried.', 86400000),
      },
    },
    circuit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'A destination that keeps failing is paused, then probed with one message.',
      properties: {
        failures: { type: 'integer', minimum: 1, default: 5, description: 'Failed attempts in a row that open the circuit. Default: 5.' },
        openMs: duration('How long an open circuit waits before one probe.', 30000),
      },
    },
    dedupe: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        windowMs: duration('How long a delivered message is remembered so that a resend is not stored again.', 604800000, 0),
        key: {
          type: 'string',
          pattern: '^[^,\\s]+(,[^,\\s]+)*$',
          description:
            'Comma-separated fields making the dedupe key (e.g. "form:imei,form:momsn"); each as orderBy takes it. Default: the preset\'s (rockblock: imei, momsn, transmit_time; standard-webhooks: webhook-id; github: X-GitHub-Delivery; stripe: the event id; slack: event_id; hmac, none: none).',
        },
      },
    },
    answer: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'What the sender gets once the message is durable (and for a duplicate).',
      properties: {
        status: { type: 'integer', minimum: 200, maximum: 299, default: 200, description: 'Default: 200.' },
        body: { type: 'string', default: 'OK', description: 'Default: OK.' },
        contentType: { type: 'string', minLength: 1, default: 'text/plain', description: 'Default: text/plain.' },
      },
    },
  },
};
