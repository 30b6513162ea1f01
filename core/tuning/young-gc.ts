import v8 from 'node:v8';
import vm from 'node:vm';

const MIB = 1024 * 1024;

type GcFunction = (options: { type: 'minor' | 'major' }) => void;

// Off until a config applies `server.tuning.gcEveryMiB` (its default lives in the schema).
let every = 0;
let sinceLast = 0;
let collect: GcFunction | undefined;
let requested = 0;

/**
 * V8's gc() function. Node exposes it only under `--expose-gc`; the flag can be turned on
 * at run time, and it then applies to contexts created afterwards (the way Jest gets it).
 * It is turned off again so that later contexts (plugins' `vm` sandboxes) do not see `gc`.
 */
function gcFunction(): GcFunction {
  const own = (globalThis as { gc?: GcFunction }).gc;
  if (typeof own === 'function') return own;
  v8.setFlagsFromString('--expose-gc');
  try {
    return vm.runInNewContext('gc') as GcFunction;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/**
 * Set how many MiB of relayed body lead to one young-generation collection
 * (`server.tuning.gcEveryMiB`; 0 turns it off). Process-wide: every gateway in the process shares
 * the count, and the last config applied wins.
 */
export function setGcEvery(mib: number): void {
  every = Math.round(mib * MIB);
  sinceLast = 0;
}

/**
 * Count body bytes relayed (read from a plain-HTTP upstream socket, an answer from a TLS
 * upstream, or a request body core forwards); past the threshold, run a young-generation
 * collection (a scavenge: 0.8 ms median on the bench machine, little being alive).
 *
 * Why: Node's HTTP parser copies every body chunk into a new buffer, and V8 frees these only
 * in a collection. A scavenge normally comes when the JavaScript heap's young generation
 * fills, which relaying a body hardly does (a 64 KiB chunk is a few hundred bytes of objects),
 * or when about 32 MiB of new buffers are pending (V8's external-memory trigger; measured the
 * same with `--max-semi-space-size=1`). So a streaming proxy holds 32 to 40 MiB of dead chunks
 * at its peak; with a collection every 8 MiB it holds about 10 (bench/README.md, "Streaming
 * files by hash").
 */
export function countBodyBytes(bytes: number): void {
  if (every === 0) return;
  sinceLast += bytes;
  if (sinceLast < every) return;
  sinceLast = 0;
  requested++;
  (collect ??= gcFunction())({ type: 'minor' });
}

/** Collections run by {@link countBodyBytes} since the process started (for metrics). */
export function gcRequested(): number {
  return requested;
}
