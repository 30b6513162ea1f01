import type { JsonSchema } from '../plugin/contract';
import { serverSchema } from './server-schema';
import { upstreamSchema } from './upstream-schema';

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
    server: serverSchema,
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
