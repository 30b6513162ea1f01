import pino, { type Logger } from 'pino';

/** Create the root logger: JSON lines on stdout (or the given stream). */
export function createLogger(level = 'info', stream?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { name: 'gatehouse' }, timestamp: pino.stdTimeFunctions.isoTime },
    stream ?? pino.destination({ sync: false }),
  );
}
