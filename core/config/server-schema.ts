import type { JsonSchema } from '../plugin/contract';
import { timeoutMs } from './upstream-schema';

/** The `server` block: the proxy's listeners, client-facing limits and timeouts, workers, and process tuning. */
export const serverSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'Listeners and client-facing limits.',
  properties: {
    http: {
      type: 'object',
      additionalProperties: false,
      description: 'Plain HTTP listener. Default: port 8080 on all interfaces when no https block is given.',
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'Port (0 picks a free one). Default: 8080.' },
        host: { type: 'string', default: '0.0.0.0', description: 'Bind address. Default: 0.0.0.0.' },
        redirectToHttps: {
          type: 'boolean',
          default: false,
          description: 'Answer every request with a 308 to the https listener. Default: false.',
        },
      },
    },
    https: {
      type: 'object',
      additionalProperties: false,
      description: 'TLS listener, from cert/key files or a persisted self-signed certificate.',
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8443, description: 'Port. Default: 8443.' },
        host: { type: 'string', default: '0.0.0.0', description: 'Bind address. Default: 0.0.0.0.' },
        cert: { type: 'string', description: 'PEM certificate file (relative to the config file).' },
        key: { type: 'string', description: 'PEM private key file (relative to the config file).' },
        selfSigned: {
          type: 'object',
          additionalProperties: false,
          description: 'Generate a self-signed RSA/SHA-256 certificate once and keep it in `dir`, so clients can pin it.',
          properties: {
            hosts: {
              type: 'array',
              items: { type: 'string' },
              minItems: 1,
              default: ['localhost', '127.0.0.1'],
              description: 'Common name (first) and subject alternative names. Default: [localhost, 127.0.0.1].',
            },
            dir: { type: 'string', default: './data/tls', description: 'Where the certificate is kept. Default: ./data/tls.' },
            days: {
              type: 'integer',
              minimum: 1,
              maximum: 36500,
              default: 3650,
              description: 'Validity in days, at most 36500 (100 years; beyond, the certificate dates overflow). Default: 3650.',
            },
          },
        },
      },
    },
    trustProxy: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'CIDRs (or addresses) of proxies whose X-Forwarded-* headers are believed. Default: none.',
    },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Client-side timeouts in milliseconds.',
      properties: {
        headers: timeoutMs('Time allowed to receive the request headers.', 20000),
        request: timeoutMs('Time allowed to receive the whole request (0: none).', 300000),
        keepAlive: timeoutMs('Idle time before a client keep-alive connection is closed.', 5000),
        send: timeoutMs(
          "Time a response may wait on a client that reads nothing (no write progress while bytes are pending) before the connection is closed and its upstream request with it, like nginx's send_timeout. A silent upstream (a long-poll) is not cut: nothing is pending then (0: none).",
          60000,
        ),
      },
    },
    maxHeaderSize: {
      type: 'integer',
      minimum: 1024,
      default: 16384,
      description: 'Largest request header block in bytes (431 beyond). Default: 16384.',
    },
    maxHeaderCount: {
      type: 'integer',
      minimum: 1,
      maximum: 10000,
      default: 100,
      description:
        "Most header lines a request may carry, like Apache's LimitRequestFields (431 and the connection closed beyond). Default: 100.",
    },
    maxUrlLength: {
      type: 'integer',
      minimum: 64,
      default: 8192,
      description: 'Longest request target in bytes (414 beyond). Default: 8192.',
    },
    encodedSlashes: {
      enum: ['reject', 'keep'],
      default: 'reject',
      description:
        'Paths are normalised before routing (dot segments resolved, escapes of unreserved characters decoded). `%2F`, `%5C` and `\\` in a path are read as separators by some backends and not by others: reject answers 400; keep passes them on as opaque characters that route rules do not split on. Default: reject.',
    },
    shutdownGrace: timeoutMs('How long SIGTERM waits for in-flight requests before closing them.', 10000),
    workers: {
      default: 1,
      description:
        'Processes serving the proxy listeners: 1 (one process), N, or auto (os.availableParallelism()). Above 1, the process `gatehouse start` runs is a node:cluster primary that validates the config, forks N workers sharing the ports (connections handed out round robin), restarts a crashed worker with backoff, keeps the admin API and aggregates their metrics (docs/workers.md). Applies after a restart. Default: 1.',
      anyOf: [{ type: 'integer', minimum: 1, maximum: 1024 }, { const: 'auto' }],
    },
    workerRestarts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'With server.workers above 1: a worker that exits unasked is replaced after 100 ms, doubling with each crash in the window up to 10 s; after more than `max` crashes within `windowMs` its slot is left stopped (logged, counted, and named by /readyz) instead of restarting for ever.',
      properties: {
        max: {
          type: 'integer',
          minimum: 0,
          maximum: 1000,
          default: 5,
          description: 'Crashes of one worker slot within windowMs that are still restarted. Default: 5.',
        },
        windowMs: {
          type: 'integer',
          minimum: 1000,
          maximum: 2147483647,
          default: 60000,
          description: 'The window, in ms, that crashes are counted over. Default: 60000.',
        },
      },
    },
    workerHeader: {
      type: 'boolean',
      default: false,
      description:
        'With server.workers above 1: add `Gatehouse-Worker: <worker id>` to every response, to see which worker served it. Default: false.',
    },
    pluginTimeout: {
      type: 'integer',
      minimum: 1,
      maximum: 2147483647,
      default: 10000,
      description:
        "Longest time in ms a plugin's start() may take, and all plugins' stop() together (GH_ERR_PLUGIN_TIMEOUT beyond): a start that takes longer stops the start or the reload; a stop that does is logged and the rest go on, so SIGTERM exits within shutdownGrace + pluginTimeout. Default: 10000.",
    },
    tuning: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'Switches for what gatehouse does with Node and V8 internals (core/tuning/), each of which can be turned off should a Node upgrade misbehave. Process-wide.',
      properties: {
        readBuffer: {
          type: 'boolean',
          default: true,
          description:
            "Plain-HTTP upstream sockets read into one reused 64 KiB buffer (half the allocations when streaming). It relies on Node internals, so it is used only on Node majors the test suite has run on; on others Node's stock agent is used and a warning logged once. Default: true.",
        },
        typescript: {
          type: 'boolean',
          default: true,
          description:
            "Compile `.ts` plugins when they are loaded, with the typescript package and a require hook of core's (only when no TypeScript loader runs already, such as ts-node or Node's type stripping). Off: .ts plugins need such a loader, or compiling to .js. Default: true.",
        },
        gcEveryMiB: {
          type: 'number',
          minimum: 0,
          default: 8,
          description:
            'Run a young-generation garbage collection after this many MiB of body relayed (upstream answers and forwarded request bodies), so the chunks Node copies out are freed while few; V8 alone waits for about 32 MiB of them, which shows in peak memory when streaming. 0: leave it to V8. Default: 8.',
        },
      },
    },
  },
};
