#!/usr/bin/env node
'use strict';
// A small idempotent backend for the RockBLOCK example: it takes what gatehouse delivers, does
// its work once per Gatehouse-Delivery-Id (a redelivery after a crash is answered 200 and not
// processed again), and prints each message with its data decoded from hex.
const http = require('node:http');

/** Start the backend on `port` (0: any); resolves with the server and the messages processed. */
function startBackend(port = Number(process.env.BACKEND_PORT || 8000), log = console.log) {
  const processed = new Map();
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const id = req.headers['gatehouse-delivery-id'];
      if (!id) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('no Gatehouse-Delivery-Id');
        return;
      }
      if (!processed.has(id)) {
        const type = req.headers['content-type'] || '';
        const text = Buffer.concat(chunks).toString('utf8');
        const fields = type.includes('json') ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text));
        const message = { ...fields, text: Buffer.from(String(fields.data || ''), 'hex').toString('utf8') };
        delete message.JWT;
        processed.set(id, message);
        log(`message ${fields.imei}/${fields.momsn} (attempt ${req.headers['gatehouse-attempt']}): ${message.text}`);
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, processed })));
}

module.exports = { startBackend };

if (require.main === module) {
  startBackend().then(({ server }) => console.error(`backend on http://127.0.0.1:${server.address().port}`));
}
