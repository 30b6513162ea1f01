import { MAX_DURATION_MS, type JsonSchema } from '../../core/plugin-api';

/** Options of `load-balancer`, after validation and defaults. */
export interface LoadBalancerOptions {
  service: string;
  upstream?: string;
  dispatch: 'push' | 'pull';
  taskTimeoutMs: number;
  heartbeatMs: number;
  resultTtlMs: number;
  tombstoneMs: number;
  maxAttempts: number;
  maxBodyBytes: number;
  workerToken?: string;
  callbackUrl?: string;
  pollMs: number;
  claimWaitMs: number;
  capacity: { threshold: number; spawnRatio: number; minIdle: number; max: number; intervalMs: number; stable: number };
}

const duration = (what: string, dflt: number, min = 1): JsonSchema => ({
  type: 'integer',
  minimum: min,
  maximum: MAX_DURATION_MS,
  default: dflt,
  description: `${what} At most ${MAX_DURATION_MS}. Default: ${dflt}.`,
});

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['service'],
  description:
    "Asynchronous tasks on CPU-heavy workers (CRIM Service Gateway): a durable task queue, push or pull dispatch within each target's limit, progress, cancel, results with a TTL, and capacity advice.",
  properties: {
    service: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
      description: 'The service name: the plugin answers /<service>/process, /annotate, /status, /cancel, /tasks and /_worker under it.',
    },
    upstream: {
      type: 'string',
      minLength: 1,
      description:
        "The declared upstream whose targets are the workers (push: required; pull: optional, for the capacity advice's booting count).",
    },
    dispatch: {
      enum: ['push', 'pull'],
      default: 'push',
      description:
        'push: gatehouse POSTs each task to a worker with a free slot; pull: workers claim tasks (POST /<service>/_worker/claim). Default: push.',
    },
    taskTimeoutMs: duration('A task running longer than this fails (code TIMEOUT).', 3600000),
    heartbeatMs: duration(
      'A running task whose holder (the gatehouse posting it, or a pulling worker) has not renewed it for this long is requeued; also how long a worker slot stays reserved after its holder vanished.',
      30000,
      100,
    ),
    resultTtlMs: duration('How long a finished task keeps its result; after it the task is EXPIRED.', 86400000),
    tombstoneMs: duration('How long an expired task is still known (as EXPIRED rather than unknown) after resultTtlMs.', 604800000),
    maxAttempts: {
      type: 'integer',
      minimum: 1,
      maximum: 100,
      default: 3,
      description:
        'Dispatches of one task at most: one found abandoned (its holder silent for heartbeatMs) after this many fails (code ATTEMPTS_EXHAUSTED). Default: 3.',
    },
    maxBodyBytes: {
      type: 'integer',
      minimum: 1,
      maximum: 104857600,
      default: 1048576,
      description: 'Largest task body accepted (413 beyond). Default: 1048576.',
    },
    workerToken: {
      type: 'string',
      minLength: 16,
      description:
        'Bearer token pulling workers send to /_worker/*; required with dispatch: pull. Write "${NAME}" to take it from the environment.',
    },
    callbackUrl: {
      type: 'string',
      pattern: '^https?://',
      description:
        'Base URL workers reach gatehouse at, for Gatehouse-Progress-Url (<callbackUrl>/<service>/_worker/<id>/progress). Default: the scheme and Host of the request that submitted the task.',
    },
    pollMs: duration(
      'How often the dispatcher (and a waiting claim) looks at the queue for work submitted through another gatehouse.',
      200,
      10,
    ),
    claimWaitMs: duration('How long a claim waits for a task at most (long poll; the worker may ask for less with ?waitMs=).', 25000, 0),
    capacity: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Capacity advice (SG rubber.py): how many workers to add (positive) or remove (negative).',
      properties: {
        threshold: { type: 'integer', minimum: 0, default: 3, description: 'Queue depth above which workers are added. Default: 3.' },
        spawnRatio: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 10,
          default: 0.2,
          description: 'Workers to add per queued task. Default: 0.2.',
        },
        minIdle: { type: 'integer', minimum: 0, default: 1, description: 'Idle workers kept when the queue is empty. Default: 1.' },
        max: { type: 'integer', minimum: 1, default: 50, description: 'Workers at most, counting those booting. Default: 50.' },
        intervalMs: duration('How often the advice is computed.', 30000, 100),
        stable: {
          type: 'integer',
          minimum: 1,
          maximum: 100,
          default: 2,
          description:
            'Hysteresis: consecutive evaluations that must agree on adding (or on removing) before the advice says so. Default: 2.',
        },
      },
    },
  },
};
