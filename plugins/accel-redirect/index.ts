import type { IncomingMessage } from 'node:http';
import { GatehouseError, definePlugin, type Context } from '../../core/plugin-api';
import { Locations } from './locations';
import { errors } from './errors';
import { schema, type AccelRedirectOptions } from './schema';

/** Key of the per-request state: headers carried from the redirecting answer to the internal one. */
const PENDING = 'accel-redirect';

interface Pending {
  readonly kept: readonly (readonly [string, string | string[]])[];
}

/**
 * `accel-redirect`: gatehouse playing nginx's part for X-Accel-Redirect. An upstream
 * answer carrying the header is swallowed; the path it names is fetched from the
 * internal location its prefix maps to and streamed to the client (core's ctx.forward).
 */
export default definePlugin<AccelRedirectOptions>({
  name: 'accel-redirect',
  schema,
  errors,
  validate(options, scope) {
    // JSON pointer escaping (RFC 6901): a prefix such as /archivei_accel/ is one key.
    const at = (prefix: string) => `/locations/${prefix.replace(/~/g, '~0').replace(/\//g, '~1')}/upstream`;
    return Object.entries(options.locations)
      .filter(([, l]) => l.upstream !== undefined && !scope.upstreams.includes(l.upstream))
      .map(([prefix, l]) => ({
        path: at(prefix),
        message: `upstream "${l.upstream}" is not declared (declared: ${scope.upstreams.join(', ') || 'none'})`,
      }));
  },
  create(options, scope) {
    const locations = new Locations(options.locations);
    const keep = [...new Set(options.keepHeaders.map((h) => h.toLowerCase()))];
    const redirects = scope.metrics.counter({
      name: 'redirects_total',
      help: 'X-Accel-Redirect answers served from an internal location',
      labelNames: ['location'],
    });
    const invalid = scope.metrics.counter({
      name: 'invalid_redirects_total',
      help: 'X-Accel-Redirect answers that could not be served (502)',
    });
    const refused = scope.metrics.counter({
      name: 'internal_refused_total',
      help: 'Client requests for an internal location, answered 404',
    });

    async function accelRedirect(ctx: Context, next: () => Promise<void>): Promise<void> {
      if (locations.isInternal(ctx.path)) {
        refused.inc();
        ctx.fail(new GatehouseError('GH_ERR_NOT_FOUND'));
        return;
      }
      await next();
    }

    return {
      handle: accelRedirect,

      /** X-Accel-* headers are for the proxy, never for the client (nginx hides them too). */
      onProxyResponse(ctx: Context, proxyRes: IncomingMessage) {
        const pending = ctx.state[PENDING] as Pending | undefined;
        const h = proxyRes.headers;
        // On the first answer X-Accel-Redirect stays for interceptResponse; an internal answer's is not followed.
        for (const name of Object.keys(h)) if (name.startsWith('x-accel-') && (pending || name !== 'x-accel-redirect')) delete h[name];
        if (pending && (proxyRes.statusCode ?? 0) < 400) {
          for (const [name, value] of pending.kept) if (h[name] === undefined) h[name] = value as string;
        }
      },

      async interceptResponse(ctx: Context, proxyRes: IncomingMessage) {
        const header = proxyRes.headers['x-accel-redirect'];
        if (header === undefined || ctx.state[PENDING]) return false;
        proxyRes.resume();
        const value = Array.isArray(header) ? header[0] : header;
        const to = locations.resolve(value);
        if (typeof to === 'string') {
          invalid.inc();
          ctx.log.warn({ plugin: 'accel-redirect', redirect: value, reason: to }, 'X-Accel-Redirect cannot be served');
          throw errors.create('INVALID', `The upstream asked for an internal redirect that cannot be served: ${to}`);
        }
        const kept: Pending['kept'] = keep.flatMap((name) => {
          const v = proxyRes.headers[name];
          return v === undefined ? [] : [[name, v] as const];
        });
        ctx.state[PENDING] = { kept } satisfies Pending;
        redirects.inc({ location: to.location.prefix });
        // nginx turns an internal redirect into a GET (a HEAD stays a HEAD) without the request body.
        await ctx.forward({
          upstream: to.location.upstream,
          target: to.location.target,
          path: to.path,
          method: ctx.method === 'HEAD' ? 'HEAD' : 'GET',
        });
        return true;
      },
    };
  },
});
