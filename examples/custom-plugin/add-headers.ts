/**
 * `add-headers`: a custom Gatehouse plugin, loaded by path from gatehouse.yaml.
 *
 * It adds fixed headers to the request sent upstream and to the response sent back,
 * and can give every request an id (kept from the client when it sent a sane one)
 * that the upstream and the client both see.
 *
 * It imports core with `import type` only: a plugin file is loaded by gatehouse
 * (under ts-node, or by the compiled CLI's built-in TypeScript loader) and needs no
 * runtime dependency on the framework. `definePlugin` from 'gatehouse' does the same
 * job with a shape check, for plugins published as packages.
 *
 * @packageDocumentation
 */
import { randomUUID } from 'node:crypto';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Context, JsonSchema, PluginDefinition } from '../../core';

/** Options of `add-headers`, after validation and defaults. */
export interface AddHeadersOptions {
  /** Headers set on the request forwarded to the upstream. */
  request: Record<string, string>;
  /** Headers set on the response sent to the client (upstream responses only). */
  response: Record<string, string>;
  /** Replace a header that the client (request) or the upstream (response) already set. */
  override: boolean;
  /** Name of a request-id header to propagate, e.g. `x-request-id`; none when absent. */
  requestId?: string;
}

const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
const headerMap = (description: string): JsonSchema => ({
  type: 'object',
  default: {},
  description,
  propertyNames: { pattern: HEADER_NAME },
  // No CR/LF: a value can never split into a second header.
  additionalProperties: { type: 'string', pattern: '^[^\\r\\n]*$' },
});

/** JSON Schema of the options: strict, so a typo is an error at load, not a silent no-op. */
export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Add headers to the upstream request and the client response.',
  properties: {
    request: headerMap('Headers added to the request sent upstream. Values may use {clientIp}, {route}, {requestId}.'),
    response: headerMap('Headers added to the response sent to the client. Values may use {clientIp}, {route}, {requestId}.'),
    override: { type: 'boolean', default: true, description: 'Replace headers already present. Default: true.' },
    requestId: {
      type: 'string',
      pattern: HEADER_NAME,
      description: 'Request-id header, generated when the client sent none. Default: none.',
    },
  },
};

/** A client-sent id is reused only when it is short and plain. */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TOKEN = /\{(clientIp|route|requestId)\}/g;
const STATE_KEY = 'add-headers.requestId';

/** Header values with `{…}` tokens are filled per request; the others are sent as written. */
function compile(headers: Record<string, string>): [name: string, value: (ctx: Context) => string][] {
  return Object.entries(headers).map(([name, value]) => {
    if (!value.match(TOKEN)) return [name.toLowerCase(), () => value];
    return [
      name.toLowerCase(),
      (ctx: Context) =>
        value.replace(TOKEN, (_m, token: string) => {
          if (token === 'clientIp') return ctx.clientIp;
          if (token === 'route') return ctx.routeName;
          return String(ctx.state[STATE_KEY] ?? '');
        }),
    ];
  });
}

const plugin: PluginDefinition<AddHeadersOptions> = {
  name: 'add-headers',
  schema,
  create(options, scope) {
    const toRequest = compile(options.request);
    const toResponse = compile(options.response);
    const idHeader = options.requestId?.toLowerCase();
    const tagged = scope.metrics.counter({
      name: 'responses_total',
      help: 'Upstream responses given extra headers',
      labelNames: ['route'],
    });
    scope.logger.debug({ request: Object.keys(options.request), response: Object.keys(options.response) }, 'add-headers ready');

    return {
      /** Fix the request id before anything else runs, so later plugins and logs can use it. */
      handle: async function addHeaders(ctx, next) {
        if (idHeader) {
          const sent = ctx.req.headers[idHeader];
          ctx.state[STATE_KEY] = typeof sent === 'string' && SANE_ID.test(sent) ? sent : randomUUID();
        }
        await next();
      },
      onProxyRequest(ctx: Context, proxyReq: ClientRequest) {
        if (idHeader) proxyReq.setHeader(idHeader, String(ctx.state[STATE_KEY]));
        for (const [name, value] of toRequest) {
          if (options.override || proxyReq.getHeader(name) === undefined) proxyReq.setHeader(name, value(ctx));
        }
      },
      onProxyResponse(ctx: Context, proxyRes: IncomingMessage) {
        // Core copies these headers to the client response right after this hook.
        if (idHeader) proxyRes.headers[idHeader] = String(ctx.state[STATE_KEY]);
        for (const [name, value] of toResponse) {
          if (options.override || proxyRes.headers[name] === undefined) proxyRes.headers[name] = value(ctx);
        }
        tagged.inc({ route: ctx.routeName });
      },
    };
  },
};

export default plugin;
