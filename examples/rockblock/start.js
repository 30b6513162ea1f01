#!/usr/bin/env node
'use strict';
// Runs the demo backend (backend.js) and gatehouse in front of it (`npm run build` first).
const path = require('node:path');
const { startBackend } = require('./backend');

startBackend().then(({ server }) => {
  const port = server.address().port;
  process.env.BACKEND_URL ??= `http://127.0.0.1:${port}`;
  console.error(`backend on http://127.0.0.1:${port}; gatehouse on http://127.0.0.1:${process.env.PORT || 8080}`);
  require('reflect-metadata');
  require('../../dist/app/cli.js')
    .main(['start', '-c', path.join(__dirname, 'gatehouse.yaml')])
    .then((code) => {
      server.close();
      process.exit(code);
    });
});
