#!/usr/bin/env node
'use strict';
// A demo CPU-heavy worker as a plain HTTP service, for the push dispatch of the service-gateway
// example: POST / with JSON {"text", "ms"} (or a form with text=…) "annotates" the text in `ms`
// (default 1000), reporting progress to Gatehouse-Progress-Url on the way, and answers JSON.
// It takes one task at a time: a second one while busy is refused with 503 and counted as a
// violation (GET /stats shows them, with how often each task id ran), which the tests check.
const http = require('node:http');

function postJson(url, body) {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = http.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
    });
    req.on('response', (res) => res.resume().on('end', resolve));
    req.on('error', resolve); // progress is best effort
    req.end(data);
  });
}

/** Start a worker on `port` (0: any); resolves with the server and its counters. */
function startWorker(port = Number(process.env.WORKER_PORT || 5001), name = `worker:${port}`) {
  const stats = { busy: 0, maxConcurrent: 0, violations: 0, ran: {} };
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const id = req.headers['gatehouse-task-id'] || 'direct';
      if (stats.busy > 0) {
        stats.violations += 1;
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'BUSY', message: `${name} is busy` }));
        return;
      }
      stats.busy += 1;
      stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.busy);
      stats.ran[id] = (stats.ran[id] || 0) + 1;
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        const input = (req.headers['content-type'] || '').includes('json')
          ? JSON.parse(text || '{}')
          : Object.fromEntries(new URLSearchParams(text));
        const ms = Number(input.ms ?? 1000);
        const progressUrl = req.headers['gatehouse-progress-url'];
        for (const p of [25, 50, 75]) {
          await new Promise((r) => setTimeout(r, ms / 4));
          if (progressUrl) await postJson(progressUrl, { progress: p, message: `${name}: ${p}%` });
        }
        await new Promise((r) => setTimeout(r, ms / 4));
        const words = String(input.text || '')
          .split(/\s+/)
          .filter(Boolean);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ worker: name, words: words.length, upper: words.map((w) => w.toUpperCase()) }));
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'BAD_INPUT', message: err.message }));
      } finally {
        stats.busy -= 1;
      }
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, stats })));
}

module.exports = { startWorker };

if (require.main === module)
  startWorker().then(({ server }) => console.log(JSON.stringify({ msg: 'worker listening', port: server.address().port })));
