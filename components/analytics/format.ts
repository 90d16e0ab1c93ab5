/** Shared by the analytics tables (server) and charts (browser): how numbers read. */

/** 75 → "1 min 15 s", 3720 → "1 h 2 min", 42 → "42 s"; null → "–". */
export function duration(seconds: number | null): string {
  if (seconds === null) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const m = Math.round(s / 60);
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`;
}

/** A challenge's position as learners see it (1-based); "–" for one the lab no longer has. */
export const position = (index: number) => (index >= 0 ? String(index + 1) : '–');

/** `text` cut to `max` characters with an ellipsis: chart labels stay on one line. */
export const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export const percent = (part: number, whole: number) => (whole ? `${Math.round((part / whole) * 100)} %` : '–');
