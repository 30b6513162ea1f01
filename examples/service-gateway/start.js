#!/usr/bin/env node
'use strict';
// Runs two demo workers (worker.js), gatehouse in front of them, and a pulling worker
// (pull-worker.js) for the transcriber service (`npm run build` first).
const path = require('node:path');
const { startWorker } = require('./worker');

Promise.all([startWorker(0, 'worker-1'), startWorker(0, 'worker-2')]).then((workers) => {
  const [a, b] = workers.map((w) => `http://127.0.0.1:${w.server.address().port}`);
  process.env.WORKER1_URL ??= a;
  process.env.WORKER2_URL ??= b;
  const port = process.env.PORT || 8080;
  console.error(`workers on ${a} and ${b}; gatehouse on http://127.0.0.1:${port}`);
  require('reflect-metadata');
  const running = require('../../dist/app/cli.js').main(['start', '-c', path.join(__dirname, 'gatehouse.yaml')]);
  const puller = require('./pull-worker').startPullWorker(`http://127.0.0.1:${port}`);
  running.then(async (code) => {
    await puller.stop();
    for (const w of workers) w.server.close();
    process.exit(code);
  });
});
