/**
 * Results as CSV for a spreadsheet: one row per session and challenge (RFC 4180 quoting). A
 * value a spreadsheet would run as a formula (=, +, -, @ first: a FAIL message is learner-made
 * text) is written with a leading apostrophe, the usual defence against CSV injection.
 */
import type { Results } from './report';

export const CSV_COLUMNS = [
  'session',
  'learner',
  'lab',
  'status',
  'score_passed',
  'score_total',
  'challenge_index',
  'challenge',
  'challenge_status',
  'attempts',
  'first_pass_at',
  'seconds_to_pass',
  'last_failure',
] as const;

export type CsvValue = string | number | boolean | null;

function field(value: CsvValue): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Any table as CSV, quoted and defused as above: a header line, then one line per row, CRLF after each. */
export function tableCsv(columns: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return `${[columns.join(','), ...rows.map((row) => row.map(field).join(','))].join('\r\n')}\r\n`;
}

export function resultsCsv({ results }: Results): string {
  const lines: CsvValue[][] = [];
  for (const s of results) {
    const head = [s.session, s.learner, s.lab, s.status, s.score.passed, s.score.total];
    // A session with no challenge rows yet (still provisioning) still gets its line.
    const rows = s.challenges.length ? s.challenges : [undefined];
    for (const c of rows) {
      const tail = c ? [c.index, c.slug, c.status, c.attempts, c.firstPassAt, c.secondsToPass, c.lastFailure] : [null, null, null, null, null, null, null];
      lines.push([...head, ...tail]);
    }
  }
  return tableCsv(CSV_COLUMNS, lines);
}
