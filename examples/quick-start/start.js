#!/usr/bin/env node
'use strict';
// Starts a tiny demo backend, then gatehouse in front of it (`npm start`).
const http = require('node:http');
const path = require('node:path');

const port = Number(process.env.DEMO_BACKEND_PORT || 3001);
const backend = http.createServer((req, res) => {
  const body = JSON.stringify({
    hello: 'from the demo backend',
    method: req.method,
    url: req.url,
    forwardedFor: req.headers['x-forwarded-for'],
  });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
backend.listen(port, '127.0.0.1', () => {
  console.error(`demo backend on http://127.0.0.1:${port}; gatehouse on http://127.0.0.1:${process.env.PORT || 8080}`);
  require('reflect-metadata');
  require('../../dist/app/cli.js')
    .main(['start', '-c', path.join(__dirname, 'gatehouse.yaml')])
    .then((code) => {
      backend.close();
      process.exit(code);
    });
});
