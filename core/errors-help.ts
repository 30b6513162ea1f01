import type { ErrorCode } from './errors';

/**
 * When each core error happens and what to do about it, for docs/errors.md (`gatehouse errors`).
 * Typed by code, so a new catalogue entry does not compile until it is explained here.
 */
export const ERROR_HELP: Record<ErrorCode, string> = {
  GH_ERR_CONFIG_NOT_FOUND:
    'No config file at the path given with `-c`, or none of the searched names in the working directory. Pass `-c FILE` or create `gatehouse.yaml`.',
  GH_ERR_CONFIG_PARSE:
    "The config file is not valid YAML/JSON, or a JS/TS config threw while loading. The message names the file and the parser's complaint.",
  GH_ERR_CONFIG_ENV: 'A `${VAR}` without a default names an unset environment variable. Set it, or write `${VAR:-default}`.',
  GH_ERR_CONFIG_INVALID:
    "The config breaks core's schema or a plugin's, or a cross-field rule. Every problem is listed with file, line:column and JSON path; `gatehouse validate` prints the same list.",
  GH_ERR_LISTEN:
    "A listener (http, https or admin) could not be opened: the port is in use, the address is not on this machine, or the host does not resolve. The message names the listener, the address and the system's reason; free the port or change the config.",
  GH_ERR_TLS:
    "The https listener's certificate or key cannot be used: a file is missing, unreadable, not PEM, or the key does not match the certificate (or a selfSigned directory cannot be written). The message names the file.",
  GH_ERR_PLUGIN_NOT_FOUND:
    'A plugin key is neither a built-in name, nor a file next to the config, nor an installed package. Check the spelling (the closest name is suggested) or install it.',
  GH_ERR_PLUGIN_LOAD:
    "A plugin's module or its `create` threw. The message names the plugin and its declaration path; fix the options or the plugin.",
  GH_ERR_PLUGIN_START:
    "A plugin's `start` failed (a file it opens, a service it connects to). Nothing was left running; fix the cause and start again.",
  GH_ERR_PLUGIN_TIMEOUT:
    "A plugin's `start` did not finish within `server.pluginTimeout` (the start or reload is refused), or the stops of a generation outlasted it (logged; shutdown goes on). Find what the plugin waits for, or raise the timeout.",
  GH_ERR_PLUGIN_FAILED:
    'A plugin threw while handling a request. The answer and the error log name the plugin; the gateway serves on. Fix the plugin.',
  GH_ERR_STORE_OPEN:
    "The `store:` a plugin needs could not be opened at start or reload: the SQLite file's directory cannot be created or written, the file is not a database, Redis does not answer within `connectTimeoutMs`, refuses the credentials, or (durability strict) runs without `appendonly yes` and `appendfsync always`. The message names the store (never its password) and the reason; the start is refused.",
  GH_ERR_STORE_UNAVAILABLE:
    'A state store operation failed after the start: Redis went away, the disk is full, the store is closing. Plugins answer 503 (with Retry-After where a sender should come back); nothing was acknowledged that was not stored.',
  GH_ERR_REGISTRY_INVALID:
    'A registry write (`PUT /registry/services/<name>`, `gatehouse registry add`) whose body is not JSON or breaks the ServiceInfo schema (an unknown field, a target that is not an http(s) URL, a ttlMs under 1000). The message names each field; nothing was written.',
  GH_ERR_REGISTRY_NOT_FOUND:
    'No entry of that exact name (surrounding whitespace is trimmed; a prefix is not a match), or a heartbeat for an entry that was deleted or whose lease lapsed long enough to be removed: register it again.',
  GH_ERR_REGISTRY_OFF:
    'A `/registry/…` admin request while the config has no `registry:` section. Add `registry: {}` to keep a registry in the store.',
  GH_ERR_BAD_REQUEST:
    'The client sent a request gatehouse refuses before routing: malformed framing, an ambiguous path (encoded slash, `..;`), a bad Host, HTTP/0.9. Nothing reached an upstream; the client must fix its request.',
  GH_ERR_URI_TOO_LONG: 'The request target is longer than `server.maxUrlLength`. Raise the limit if such URLs are legitimate.',
  GH_ERR_HEADERS_TOO_LARGE:
    'The request headers are larger than `server.maxHeaderSize`. Raise the limit if such headers are legitimate (large cookies, tokens).',
  GH_ERR_REQUEST_TIMEOUT:
    'The client did not send its headers within `server.timeouts.headers`, or its whole request within `server.timeouts.request`. Slow clients on bad links may need longer values.',
  GH_ERR_BODY_TOO_LARGE:
    "A plugin that reads request bodies got one over its limit. The limit is the plugin's option; the client connection closes after the answer.",
  GH_ERR_BODY_INVALID:
    'A plugin that reads request bodies could not parse this one (malformed JSON or form). The client must send a well-formed body.',
  GH_ERR_UNSUPPORTED_MEDIA_TYPE: 'A plugin that reads request bodies got a Content-Type it does not read (it says which it expects).',
  GH_ERR_METHOD_NOT_ALLOWED:
    'TRACE and CONNECT are never served; plugins refuse other methods they do not serve (the Allow header says which).',
  GH_ERR_NO_ROUTE: 'No route matches the method, host, path and headers. Add a route, or a catch-all `match: { path: / }` last.',
  GH_ERR_NOT_FOUND: "Nothing at this path of the admin API or of a plugin's own endpoint.",
  GH_ERR_UPGRADE_REFUSED: 'A WebSocket upgrade on a route without `websocket: true`. Set it on the route if the upstream speaks WebSocket.',
  GH_ERR_NO_UPSTREAM: 'The route names no upstream (or an unknown one) and no plugin answered or chose one. Set `upstream:` on the route.',
  GH_ERR_UPSTREAM_UNREACHABLE:
    'The upstream refused or reset the connection. Check that the target is up; `gatehouse_upstream_errors_total{kind}` tells connect from reset.',
  GH_ERR_UPSTREAM_BAD_RESPONSE: 'The upstream answered a head Node cannot relay (a status outside 100-999). Fix the upstream.',
  GH_ERR_UPSTREAM_TIMEOUT:
    "The upstream sent nothing for the upstream's `timeout` ms. Raise `timeout` for slow endpoints or find out why the upstream stalls.",
  GH_ERR_UPSTREAM_NO_TARGETS:
    'The upstream has no targets now: a plugin that provides them (a service registry) has set none yet, or has removed them all. Register a target; `GET /upstreams` on the admin API shows what each upstream has.',
  GH_ERR_UPSTREAM_QUEUE_FULL:
    'Every target is at `maxConnectionsPerTarget` (or its own `maxConnections`) and `queue.max` requests wait already. Nothing was sent upstream; the client may retry later. Add targets, or raise the limit or the queue.',
  GH_ERR_UPSTREAM_QUEUE_TIMEOUT:
    'The request waited `queue.timeoutMs` for a target slot without getting one. Nothing was sent upstream. The targets are too slow or too few for the load: add targets, or raise the timeout.',
  GH_ERR_UPSTREAM_DEADLINE:
    "The request's deadline (`X-Request-Deadline` in epoch ms, or `X-Request-Timeout` in ms from arrival; names set by `deadlineHeaders`) had passed on arrival or passed while it waited in the queue. Nothing was sent upstream.",
  GH_ERR_UNAUTHORIZED: 'The admin API needs `Authorization: Bearer <admin.token>`.',
  GH_ERR_UI_LOGIN:
    'The dashboard (`/ui`) has no live session for this request: log in at `/ui/login` with the admin token. Sessions last 12 hours and end when gatehouse restarts.',
  GH_ERR_AUTH_LOCKED:
    'This client address presented 10 wrong admin tokens (bearer or dashboard login) within a minute; every attempt from it, right or wrong, is refused until that minute ends (`Retry-After` says when). Check the token the client uses.',
  GH_ERR_UI_CSRF:
    'Dashboard actions (replay, purge, cancel, logout) must carry the X-CSRF-Token header the page got with its session, from the same origin. The page sends it; a request from elsewhere is refused.',
  GH_ERR_RELOAD_FAILED:
    'A reload (SIGHUP, POST /reload) found a config that cannot run; the old one keeps serving. The log has the reasons; fix the file and reload again. POST /reload answers it with 422 (the new config was refused); 500 only under server.workers, when the primary took the new config and a worker did not (`status: "partially reloaded"`, with each worker\'s outcome).',
  GH_ERR_INTERNAL: 'A bug in gatehouse. The error log has the stack; please report it.',
};
