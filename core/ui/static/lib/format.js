// Formatting shared by the pages: numbers, durations, ages and times.

/** A number with at most `digits` decimals, '–' for none. */
export function num(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  return Number(v).toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Milliseconds as ms, s, min or h. */
export function duration(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1) return `${num(ms, 3)} ms`;
  if (ms < 1000) return `${num(ms, 1)} ms`;
  if (ms < 60000) return `${num(ms / 1000, 1)} s`;
  if (ms < 3600000) return `${num(ms / 60000, 1)} min`;
  return `${num(ms / 3600000, 1)} h`;
}

/** How long ago an ISO time or epoch ms was, from `now` (epoch ms). */
export function ago(when, now = Date.now()) {
  if (!when) return '–';
  const t = typeof when === 'number' ? when : Date.parse(when);
  return `${duration(Math.max(0, now - t))} ago`;
}

/** An ISO time or epoch ms as local HH:MM:SS. */
export function clock(when) {
  if (!when) return '–';
  return new Date(when).toLocaleTimeString('en-GB');
}

/** A section the server could not read carries { error: { code, message } }. */
export function failure(section) {
  return section && typeof section === 'object' && section.error && section.error.code ? section.error : undefined;
}
