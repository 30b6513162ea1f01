'use strict';
/**
 * `server-timing`: the same contract in plain JavaScript (types through JSDoc).
 *
 * Adds `Server-Timing: <metric>;dur=<ms>` to upstream responses: the time from the
 * moment the request entered this plugin to the moment the upstream answered.
 */

/** @typedef {{ metric: string, description?: string }} ServerTimingOptions */

/** @type {import('../../core').PluginDefinition<ServerTimingOptions>} */
module.exports = {
  name: 'server-timing',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      metric: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', default: 'upstream', description: 'Metric name. Default: upstream.' },
      description: { type: 'string', pattern: '^[^"\\\\\\r\\n]*$', description: 'Human label (desc="…").' },
    },
  },
  create(options) {
    const desc = options.description ? `;desc="${options.description}"` : '';
    const started = 'server-timing.start';
    return {
      handle(ctx, next) {
        ctx.state[started] = process.hrtime.bigint();
        return next();
      },
      onProxyResponse(ctx, proxyRes) {
        const t0 = ctx.state[started];
        if (typeof t0 !== 'bigint') return;
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const entry = `${options.metric};dur=${ms.toFixed(1)}${desc}`;
        const prior = proxyRes.headers['server-timing'];
        proxyRes.headers['server-timing'] = prior ? `${prior}, ${entry}` : entry;
      },
    };
  },
};
