import { MAX_DURATION_MS, type JsonSchema } from '../plugin/contract';

/** A duration in ms with its default, bounded by what Node's timers hold. */
export const timeoutMs = (description: string, dflt: number): JsonSchema => ({
  type: 'integer',
  minimum: 0,
  maximum: MAX_DURATION_MS,
  default: dflt,
  description: `${description} At most ${MAX_DURATION_MS}. Default: ${dflt}.`,
});

const positiveMs = (description: string, dflt: number): JsonSchema => ({ ...timeoutMs(description, dflt), minimum: 1 });

const TARGET_URL: JsonSchema = {
  type: 'string',
  format: 'uri',
  pattern: '^(http|https|ws|wss)://',
  errorMessage: 'expected an http(s) or ws(s) URL such as http://127.0.0.1:3000 (port 1-65535)',
};

/** One target: a URL, or the URL with its weight and own in-flight limit. */
export const targetSchema: JsonSchema = {
  // if/then/else rather than oneOf: a bad URL gets one error, not one per branch.
  if: { type: 'string' },
  then: TARGET_URL,
  else: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: TARGET_URL,
      weight: {
        type: 'integer',
        minimum: 1,
        maximum: 1000,
        default: 1,
        description: 'Share of the requests, relative to the other targets (all policies but ring-hash). Default: 1.',
      },
      maxConnections: {
        type: 'integer',
        minimum: 1,
        description: "In-flight requests this target takes at most. Default: the upstream's maxConnectionsPerTarget.",
      },
    },
  },
};

/** The retry causes `retry.on` may list. */
export const RETRY_CAUSES = ['connect-failure', 'reset', 'timeout', '502', '503', '504'] as const;

/** One upstream pool: its targets, how they are chosen, limited, checked and retried. */
export const upstreamSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    targets: {
      type: 'array',
      minItems: 1,
      description:
        "Base URLs, or { url, weight, maxConnections }. May be left out when a plugin provides the upstream's targets at run time. Default: none.",
      items: targetSchema,
    },
    registry: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description:
        'Take the targets from this service registry entry, live (needs `registry:`): a change of the entry applies within a second, an absent or critical entry leaves no targets (503 GH_ERR_UPSTREAM_NO_TARGETS). Instead of targets.',
    },
    balance: {
      enum: ['round-robin', 'least-request', 'p2c-ewma', 'ring-hash', 'random'],
      default: 'round-robin',
      description:
        'How a target is chosen: round-robin (smooth weighted, as nginx), least-request (the less busy of two random targets, weighted, as Envoy), p2c-ewma (the faster of two by latency EWMA × in-flight, as Finagle/Linkerd), ring-hash (consistent hashing of hashKey, weights ignored), random (weighted). Default: round-robin.',
    },
    hashKey: {
      type: 'string',
      pattern: "^(header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|cookie:[^;=\\s]+|query:.+|ip|path)$",
      default: 'ip',
      description: 'ring-hash: what is hashed: header:NAME, cookie:NAME, query:NAME, ip (client IP) or path. Default: ip.',
    },
    maxConnectionsPerTarget: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description:
        'In-flight requests per target, never exceeded; beyond it requests wait in the queue (0: no limit). A WebSocket upgrade counts from its slot until its socket closes. Default: 0.',
    },
    queue: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Requests waiting for a free target (with maxConnectionsPerTarget), served first in, first out.',
      properties: {
        max: {
          type: 'integer',
          minimum: 0,
          default: 1000,
          description: 'Requests that may wait; beyond, 503 GH_ERR_UPSTREAM_QUEUE_FULL (0: no queue). Default: 1000.',
        },
        timeoutMs: positiveMs('Longest wait in the queue before 503 GH_ERR_UPSTREAM_QUEUE_TIMEOUT.', 30000),
      },
    },
    deadlineHeaders: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'Request headers carrying a deadline: a request whose deadline has passed, or passes while it waits, gets 504 GH_ERR_UPSTREAM_DEADLINE without using a target.',
      properties: {
        absolute: {
          type: 'string',
          default: 'x-request-deadline',
          description: "Header with the deadline in epoch milliseconds ('' : not read). Default: x-request-deadline.",
        },
        relative: {
          type: 'string',
          default: 'x-request-timeout',
          description: "Header with the milliseconds left, counted from arrival ('' : not read). Default: x-request-timeout.",
        },
      },
    },
    healthCheck: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      description:
        'Active health checks: a GET of `path` on every target, every intervalMs (jittered by ±10%). A target that fails `unhealthy` checks in a row gets no new requests until it passes `healthy` in a row. Default: none.',
      properties: {
        path: { type: 'string', pattern: '^/', description: 'Path checked on each target; a 2xx or 3xx answer passes.' },
        intervalMs: positiveMs('Time between two checks of a target.', 5000),
        timeoutMs: positiveMs('Time a check may take before it fails.', 2000),
        healthy: { type: 'integer', minimum: 1, default: 2, description: 'Passes in a row that make a target healthy again. Default: 2.' },
        unhealthy: { type: 'integer', minimum: 1, default: 3, description: 'Failures in a row that make a target unhealthy. Default: 3.' },
      },
    },
    outlier: {
      type: 'object',
      additionalProperties: false,
      description:
        'Passive outlier ejection: a target whose requests fail (connect failure, reset, timeout, 5xx) consecutiveFailures times in a row gets no new requests for ejectMs × the number of times it was ejected (at most 10 ×). Default: none.',
      properties: {
        consecutiveFailures: { type: 'integer', minimum: 1, default: 5, description: 'Failures in a row that eject a target. Default: 5.' },
        ejectMs: positiveMs('Ejection time of a first ejection; each further one adds as much.', 30000),
        maxEjectedPercent: {
          type: 'integer',
          minimum: 0,
          maximum: 100,
          default: 50,
          description: 'Most targets ejected at once, in percent of the targets (one may always be). Default: 50.',
        },
      },
    },
    retry: {
      type: 'object',
      additionalProperties: false,
      description:
        'Retries on another target, only while nothing of the answer reached the client, for idempotent methods (any method after a connect failure, which sent nothing), and only with a body of at most 64 KiB (kept to be sent again) or none. Default: none.',
      properties: {
        attempts: {
          type: 'integer',
          minimum: 1,
          maximum: 10,
          default: 2,
          description: 'Retries after the first try, at most. Default: 2.',
        },
        on: {
          type: 'array',
          uniqueItems: true,
          minItems: 1,
          items: { enum: [...RETRY_CAUSES] },
          default: ['connect-failure', 'reset', '502', '503', '504'],
          description:
            'What is retried: connect-failure, reset (connection closed before an answer), timeout (the upstream timeout; the request may have been processed), 502, 503, 504 (answers). Default: [connect-failure, reset, 502, 503, 504].',
        },
        budgetPercent: {
          type: 'integer',
          minimum: 0,
          maximum: 100,
          default: 20,
          description:
            'Retries are kept under this share of requests (over the last 10 to 20 s, and 3 more), so that a dead upstream is not hammered. Default: 20.',
        },
        nonIdempotent: {
          type: 'boolean',
          default: false,
          description: 'Retry POST and PATCH too (after a reset or a 5xx the upstream may have acted on them). Default: false.',
        },
      },
    },
    timeout: timeoutMs('Idle time on the upstream socket before a 504.', 60000),
    maxSockets: { type: 'integer', minimum: 1, default: 256, description: 'Connections per target. Default: 256.' },
    maxFreeSockets: {
      type: 'integer',
      minimum: 0,
      default: 64,
      description: 'Idle keep-alive connections kept per target. Default: 64.',
    },
    keepAliveMs: timeoutMs('How long an idle upstream connection is kept (0: closed once idle).', 30000),
    changeOrigin: {
      type: 'boolean',
      default: false,
      description: 'Send the target host as Host. Default: false (keep the client Host).',
    },
    insecure: {
      type: 'boolean',
      default: false,
      description: 'Accept invalid TLS certificates from an https target. Default: false.',
    },
  },
};
