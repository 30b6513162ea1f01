'use strict';
// What the benchmarks that run a built gatehouse beside their load generator share: the
// command line, the child processes, waiting, percentiles.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

/** Exit with the hint unless dist/ is built: the benchmarks run the compiled gatehouse. */
function requireBuild() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'app', 'cli.js'))) {
    console.error('Build first: npx tsc -p .');
    process.exit(1);
  }
}

const argv = process.argv.slice(2);

/** The value after `--name` on the command line, or `dflt`. */
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? dflt : argv[i + 1];
};

/** Whether `--name` is on the command line. */
const flag = (name) => argv.includes(`--${name}`);

/**
 * `node ...args` in a child process, resolved with { proc, port } once it prints its port on
 * stdout: gatehouse's "listening" log line, or a line `PORT n` (a backend's).
 */
function child(args, env = {}) {
  const p = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    p.stdout.setEncoding('utf8').on('data', (c) => {
      buf += c;
      const m = /"addresses":\{"http":\{[^}]*"port":(\d+)/.exec(buf) || /^PORT (\d+)$/m.exec(buf);
      if (m) resolve({ proc: p, port: Number(m[1]) });
    });
    p.once('exit', (code) => reject(new Error(`child exited ${code}: ${buf.slice(-2000)}`)));
  });
}

/**
 * Poll `fn` (sync or async) until it is true, every `every` ms (0: back to back, for a wait
 * that is itself the measurement); throws `what` after `ms`.
 */
async function until(fn, ms, what, every = 20) {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(what);
    if (every > 0) await new Promise((r) => setTimeout(r, every));
  }
}

/** The p-th percentile (0 to 100) of `xs`: the sorted sample at index ⌊p/100 × n⌋; NaN when empty. */
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

module.exports = { ROOT, requireBuild, opt, flag, child, until, pct };
