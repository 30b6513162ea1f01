import { availableParallelism } from 'node:os';

/** `server.workers` as a number of processes: `auto` is the machine's available parallelism. */
export function workerCount(setting: number | 'auto'): number {
  return setting === 'auto' ? availableParallelism() : setting;
}
