'use strict';
/**
 * A custom plugin that does nothing: `await next()` and return. The passthrough benchmark
 * declares it five times on its route (loaded by absolute path, like any custom plugin), so
 * the measured cost is that of the pipeline itself, not of any plugin's work.
 */
const { definePlugin } = require('../dist/core');

let instances = 0;

exports.default = definePlugin({
  name: 'noop',
  schema: { type: 'object', additionalProperties: false },
  create() {
    instances += 1;
    return {
      handle: async function noop(ctx, next) {
        await next();
      },
    };
  },
});

/** How many instances were created in this process (the benchmark checks it is 5). */
exports.instances = () => instances;
