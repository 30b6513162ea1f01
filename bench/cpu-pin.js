'use strict';
// CPU pinning shared by the benchmarks: taskset places load generator, backend and proxy on
// separate cores, so the process under test is the bottleneck and not the scheduler.
const os = require('node:os');
const { execFileSync } = require('node:child_process');

function hasTaskset() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pinning is possible (taskset present, 2+ CPUs). */
const CAN_PIN = os.cpus().length >= 2 && hasTaskset();

/** A `pin(pid, cpus)` that pins all threads of `pid` to a CPU list ("0", "1") when `enabled`. */
function pinner(enabled) {
  return function pin(pid, cpus) {
    if (enabled) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  };
}

module.exports = { CAN_PIN, pinner };
