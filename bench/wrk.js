'use strict';
// wrk (C, epoll) as the load generator of bench/passthrough.js (`--load wrk`): at the same
// request rate it needs a fraction of autocannon's CPU, which matters on a 2-core machine where
// the load generator shares a core with the backend and, with server.workers, with the proxy.
const { spawn, execFileSync } = require('node:child_process');

/** wrk is on PATH (Debian package `wrk`). */
function hasWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version prints its banner and exits 1; only a missing binary is ENOENT.
    return err.code !== 'ENOENT';
  }
}

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60000 };

/** "1.23ms" → 1.23 (milliseconds). */
function ms(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`wrk: cannot read the latency ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** bash's `times` line ("0m0.512s 0m1.234s": user, system) → microseconds. */
function timesUs(line) {
  const parts = line.trim().split(/\s+/);
  return parts.reduce((sum, p) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(p);
    if (!m) throw new Error(`wrk: cannot read the CPU time ${JSON.stringify(line)}`);
    return sum + (Number(m[1]) * 60 + Number(m[2])) * 1e6;
  }, 0);
}

/**
 * One wrk run (one thread) against `http://127.0.0.1:<port>/` with `headers`, started pinned to
 * `cpus` (taskset -c) when given, for `seconds` rounded to whole seconds. Resolves with the 2xx
 * count, failures, wrk's own p50/p99 (ms; wrk keeps a full-resolution histogram) and wrk's CPU
 * time (µs, read by bash's `times`).
 */
function runWrk({ port, connections, seconds, headers = {}, cpus }) {
  // wrk reads whole seconds only (a 0.5 s warm-up runs for 1 s).
  const args = [
    '-t1',
    `-c${connections}`,
    `-d${Math.max(1, Math.round(seconds))}s`,
    '--latency',
    ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
  ];
  const quoted = [...args, `http://127.0.0.1:${port}/`].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const cmd =
    cpus === undefined ? ['bash', ['-c', `wrk ${quoted}; times`]] : ['taskset', ['-c', cpus, 'bash', '-c', `wrk ${quoted}; times`]];
  return new Promise((resolve, reject) => {
    const p = spawn(cmd[0], cmd[1], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    p.once('error', reject);
    p.once('exit', (code) => {
      try {
        const total = /(\d+) requests in /.exec(out);
        if (code !== 0 || !total) throw new Error(`wrk exited ${code}: ${out.slice(-500)}`);
        const non2xx = Number((/Non-2xx or 3xx responses: (\d+)/.exec(out) ?? [0, 0])[1]);
        const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
        const lines = out.trim().split('\n');
        resolve({
          responses: Number(total[1]) - non2xx,
          non2xx,
          errors: sock ? Number(sock[1]) + Number(sock[2]) + Number(sock[3]) : 0,
          timeouts: sock ? Number(sock[4]) : 0,
          p50: ms(/^\s*50%\s+(\S+)/m.exec(out)[1]),
          p99: ms(/^\s*99%\s+(\S+)/m.exec(out)[1]),
          // `times` prints the shell's own line, then its children's (wrk's).
          cpuUs: timesUs(lines[lines.length - 1]),
        });
      } catch (err) {
        reject(err);
      }
    });
  });
}

module.exports = { hasWrk, runWrk };
