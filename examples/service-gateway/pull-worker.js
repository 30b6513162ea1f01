#!/usr/bin/env node
'use strict';
// A pulling worker for the example's `transcriber` service (dispatch: pull), written with the
// package's worker library: it claims tasks, reports progress, and posts each result.
// From a checkout it loads dist/ (`npm run build` first); installed, `require('gatehouse')`.
const { runWorker } = require('../../dist/app');

function startPullWorker(
  url = process.env.GATEHOUSE_URL || 'http://127.0.0.1:8080',
  token = process.env.SG_WORKER_TOKEN || 'demo-worker-token-change-me',
  opts = {},
) {
  return runWorker({
    url: `${url}/transcriber`,
    token,
    name: opts.name || `pull-worker-${process.pid}`,
    waitMs: opts.waitMs,
    onError: opts.onError || ((err) => console.error(err.message)),
    async handler(task, ctx) {
      const input = task.json();
      const ms = Number(input.ms ?? 1000);
      for (const p of [25, 50, 75]) {
        if (ctx.signal.aborted) throw Object.assign(new Error('canceled'), { code: 'CANCELED' });
        await new Promise((r) => setTimeout(r, ms / 4));
        await ctx.progress(p, `transcribing: ${p}%`);
      }
      await new Promise((r) => setTimeout(r, ms / 4));
      return { transcript: String(input.text || '').toLowerCase(), attempt: task.attempts };
    },
  });
}

module.exports = { startPullWorker };

if (require.main === module) startPullWorker();
