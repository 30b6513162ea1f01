import pino, { type Logger } from 'pino';

/**
 * Create the root logger: JSON lines on stdout (or the given stream). `fields` are added to
 * every line after `name` (a cluster worker's `worker: <id>`), the access log's included.
 */
export function createLogger(level = 'info', stream?: NodeJS.WritableStream, fields: Record<string, unknown> = {}): Logger {
  return pino(
    { level, base: { name: 'gatehouse', ...fields }, timestamp: pino.stdTimeFunctions.isoTime },
    stream ?? pino.destination({ sync: false }),
  );
}
