import type { JsonSchema } from '../plugin/contract';
import { timeoutMs, upstreamSchema } from './upstream-schema';

/** A plugin instance's own id: a log field, a metric label and its admin path; never `<name>#<n>`, the default ids. */
const INSTANCE_ID: JsonSchema = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
  maxLength: 64,
  description:
    'Instance id of this declaration (logs, metrics, /plugins/<id>/ on the admin API). Default: <plugin-name>#<n>, the n-th declaration of the plugin.',
};

const pluginList = (description: string): JsonSchema => ({
  type: 'array',
  description,
  default: [],
  items: {
    description:
      'One plugin: `- <plugin-name>: {options}`, optionally with `id: <instance id>` beside it. Built-ins by name; custom ones by path (./x.ts) or package name.',
    type: 'object',
    minProperties: 1,
    maxProperties: 2,
    properties: { id: INSTANCE_ID },
    // The id alone is no declaration (two plugin keys are refused by the loader, in words).
    not: { required: ['id'], maxProperties: 1 },
  },
});

/** JSON Schema of the core configuration (plugin options are checked by each plugin's schema). */
export const coreSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://gatehouse.dev/config.schema.json',
  title: 'Gatehouse configuration',
  type: 'object',
  additionalProperties: false,
  required: ['routes'],
  properties: {
    server: {
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
    },
    admin: {
      type: 'object',
      additionalProperties: false,
      description: 'Admin API (health, metrics, config, reload). Disabled when absent.',
      required: ['token'],
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 9901, description: 'Port. Default: 9901.' },
        host: { type: 'string', default: '127.0.0.1', description: 'Bind address; keep it on loopback. Default: 127.0.0.1.' },
        token: {
          type: 'string',
          minLength: 16,
          description: 'Bearer token required for everything but /healthz and /readyz (16+ characters).',
        },
      },
    },
    store: {
      default: 'sqlite:./data/gatehouse.db',
      description:
        'Durable state for plugins (queues, tasks, the registry): sqlite:PATH (embedded, relative to the config file) or redis://[user:pass@]host:port[/db] (rediss:// for TLS), shared by every gatehouse pointed at it; or { url, … } to tune it. Opened at start only when a plugin uses it. Default: sqlite:./data/gatehouse.db.',
      anyOf: [
        { type: 'string', minLength: 1 },
        {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: { type: 'string', minLength: 1, description: 'sqlite:PATH or redis://… as above.' },
            durability: {
              enum: ['strict', 'relaxed'],
              default: 'strict',
              description:
                'strict: a resolved write survives power loss (SQLite synchronous=FULL; Redis must run appendfsync always, checked at start). relaxed: it survives a gatehouse crash, not a machine crash (SQLite synchronous=NORMAL; Redis not checked). Default: strict.',
            },
            prefix: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              default: 'gatehouse:',
              description: 'Redis only: every key under this prefix. Default: gatehouse:.',
            },
            connectTimeoutMs: {
              type: 'integer',
              minimum: 1,
              maximum: 600000,
              default: 5000,
              description: 'Redis only: how long opening the connection may take at start. Default: 5000.',
            },
            commandTimeoutMs: {
              type: 'integer',
              minimum: 1,
              // A singleton's holder must learn that its lock's renewal failed before another
              // process can take the lock: renewal period (3.3 s) + this < lock TTL (10 s).
              maximum: 5000,
              default: 2000,
              description:
                'Redis only: an operation Redis has not answered within this many ms fails (a webhook gets 503 with Retry-After) instead of waiting for a server that is gone or stalled; while the connection is known to be down, operations fail at once. At most 5000, so that a singleton task stops before its lock can pass to another instance. Default: 2000.',
            },
          },
        },
      ],
    },
    registry: {
      type: 'object',
      additionalProperties: false,
      description:
        'Keep a service registry in the store, served on the admin listener under /registry/ (gatehouse registry …). Off when absent; `registry: {}` turns it on. Applies after a restart.',
      properties: {
        deregisterAfterMs: {
          type: 'integer',
          minimum: 0,
          maximum: 2147483647,
          default: 60000,
          description:
            'An entry whose lease (ttlMs) lapsed is critical; this long after, it is removed (Consul: DeregisterCriticalServiceAfter). Default: 60000.',
        },
        reapEveryMs: {
          type: 'integer',
          minimum: 100,
          maximum: 2147483647,
          default: 1000,
          description: 'How often each gatehouse looks for entries to remove. Default: 1000.',
        },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: {
          enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          default: 'info',
          description: 'pino level. Default: info.',
        },
        accessLog: {
          default: true,
          description:
            'One line per request: true (JSON on stdout with the other logs), false, or { format, sample, file, flushMs }. Default: true.',
          anyOf: [
            { type: 'boolean' },
            {
              type: 'object',
              additionalProperties: false,
              properties: {
                format: {
                  enum: ['json', 'combined'],
                  default: 'json',
                  description: "json: pino's JSON line; combined: nginx's combined format. Default: json.",
                },
                sample: {
                  type: 'number',
                  exclusiveMinimum: 0,
                  maximum: 1,
                  default: 1,
                  description: 'Share of 1xx-3xx answers logged (4xx and 5xx always are). Default: 1.',
                },
                file: {
                  type: 'string',
                  minLength: 1,
                  description:
                    'Write to this file (relative to the config file; parents created; reopened on SIGUSR1 for logrotate) instead of stdout.',
                },
                flushMs: {
                  type: 'integer',
                  minimum: 0,
                  maximum: 10000,
                  default: 100,
                  description:
                    'Lines are buffered and written 16 KiB at a time, or this long after the first pending one (and on SIGUSR1 and stop); a SIGKILL loses at most this much. 0: within a millisecond. Default: 100.',
                },
              },
            },
          ],
        },
      },
    },
    upstreams: {
      type: 'object',
      default: {},
      description: 'Named upstream pools.',
      propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
      additionalProperties: upstreamSchema,
    },
    plugins: pluginList('Global plugins, run before route plugins on every route.'),
    routes: {
      type: 'array',
      minItems: 1,
      description: 'Routes, tried in order; the first match wins.',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          name: {
            type: 'string',
            pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
            description: 'Name used in logs and metrics. Default: route-<index>.',
          },
          match: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
              host: {
                oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }],
                description: 'Host (exact) or *.example.com; any host when absent.',
              },
              path: { type: 'string', pattern: '^/', description: 'Path prefix. Default: / (everything).' },
              pathExact: { type: 'string', pattern: '^/', description: 'Exact path.' },
              pathRegex: { type: 'string', format: 'regex', description: 'Regular expression on the path.' },
              methods: {
                type: 'array',
                items: { type: 'string', pattern: '^[A-Z]+$' },
                minItems: 1,
                description: 'Allowed methods; any when absent.',
              },
              headers: {
                type: 'object',
                description: 'Header name → exact value, or { regex } to match.',
                additionalProperties: {
                  oneOf: [
                    { type: 'string' },
                    {
                      type: 'object',
                      additionalProperties: false,
                      required: ['regex'],
                      properties: { regex: { type: 'string', format: 'regex' } },
                    },
                  ],
                },
              },
            },
          },
          stripPrefix: { type: 'string', pattern: '^/', description: 'Remove this prefix from the path sent upstream.' },
          rewrite: {
            type: 'object',
            additionalProperties: false,
            required: ['pattern', 'replacement'],
            description: 'Regex rewrite of the path sent upstream ($1… refer to groups).',
            properties: { pattern: { type: 'string', format: 'regex' }, replacement: { type: 'string' } },
          },
          upstream: { type: 'string', description: 'Upstream name; plugins may choose another per request.' },
          websocket: { type: 'boolean', default: false, description: 'Allow WebSocket upgrades. Default: false.' },
          plugins: pluginList('Route plugins, run in order after the global ones.'),
        },
      },
    },
  },
};
