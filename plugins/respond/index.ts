import { definePlugin } from '../../core/plugin-api';
import { schema, type RespondOptions } from './schema';

/**
 * `respond`: a fixed answer, e.g. a health check (`/connection/hc` → 200 OK).
 * The body and headers are built once at load, so each request only writes them.
 */
export default definePlugin<RespondOptions>({
  name: 'respond',
  schema,
  create(options, scope) {
    const isJson = options.json !== undefined;
    const body = Buffer.from(isJson ? JSON.stringify(options.json) : options.body);
    const lower = Object.fromEntries(Object.entries(options.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const headers = { 'content-type': isJson ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8', ...lower };
    const served = scope.metrics.counter({ name: 'responses_total', help: 'Fixed responses sent', labelNames: ['status'] });
    const status = String(options.status);
    return {
      handle: function respond(ctx) {
        served.inc({ status });
        ctx.send(options.status, body, headers);
      },
    };
  },
});
