/**
 * The import report: what was converted, and every problem as `file:line: severity: message`,
 * the form `labforge lint` prints. `error`: something was not converted (a virtual machine, a
 * tab type Labforge lacks); `warning`: converted with a change (an image that runs as
 * labforge/base, a field dropped because it means nothing here). `ok` is the exit-code
 * contract: every challenge converted, and the written lab free of lint errors.
 */
import path from 'node:path';
import { formatProblem } from '../../labs/lint';
import type { Problem } from '../../labs/positions';
import type { ChallengeOutcome } from './challenge';
import type { ImageOutcome } from './images';

export interface ImportReport {
  /** The track folder and the lab folder, as shown in problems. */
  source: string;
  out?: string;
  slug?: string;
  /** Whether the lab folder was written. */
  written: boolean;
  ok: boolean;
  challenges: ChallengeOutcome[];
  hosts: string[];
  images: ImageOutcome[];
  problems: Problem[];
  errors: number;
  warnings: number;
}

/** Problems of the track first (track.yml, config.yml), then by file and line; the lab's own lint last. */
export function finish(report: Omit<ImportReport, 'errors' | 'warnings' | 'ok'>, lintErrors: number): ImportReport {
  const inOut = (f: string) => report.out !== undefined && (f === report.out || f.startsWith(`${report.out}/`));
  const rank = (f: string) => (inOut(f) ? 3 : path.basename(f) === 'track.yml' ? 0 : path.basename(f) === 'config.yml' ? 1 : 2);
  const problems = report.problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p.file) - rank(b.p.file) || cmp(a.p.file, b.p.file) || a.p.line - b.p.line || a.i - b.i)
    .map(({ p }) => p);
  const converted = report.challenges.length > 0 && report.challenges.every((c) => c.converted);
  return {
    ...report,
    problems,
    ok: report.written && converted && lintErrors === 0,
    errors: problems.filter((p) => p.severity === 'error').length,
    warnings: problems.filter((p) => p.severity === 'warning').length,
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatReport(r: ImportReport): string {
  const done = r.challenges.filter((c) => c.converted).length;
  const head = r.written
    ? `Imported ${r.source} into ${r.out}: ${done} of ${plural(r.challenges.length, 'challenge')} converted, ${plural(r.hosts.length, 'host')} (${r.hosts.join(', ')}).`
    : `Nothing written: ${r.source} could not be imported.`;
  const lines = [head];
  const mapped = r.images.filter((i) => i.status === 'mapped');
  if (mapped.length) lines.push(`Images mapped to ${mapped[0].runs}: ${mapped.map((i) => `${i.image} (${i.host})`).join(', ')}.`);
  const missing = r.images.filter((i) => i.status === 'missing');
  if (missing.length) lines.push(`Images this machine does not have: ${missing.map((i) => `${i.image} (${i.host})`).join(', ')}.`);
  const failed = r.challenges.filter((c) => !c.converted);
  if (failed.length) lines.push(`Not converted: ${failed.map((c) => c.source).join(', ')}.`);
  if (r.problems.length) lines.push('', ...r.problems.map(formatProblem));
  const verdict = r.ok ? 'every challenge was converted' : 'not every challenge was converted';
  lines.push('', `${plural(r.errors, 'error')} (not converted), ${plural(r.warnings, 'warning')} (converted with a change): ${verdict}.`);
  if (r.written) lines.push(`Next: labforge lint ${r.out} && labforge test ${r.out}`);
  return `${lines.join('\n')}\n`;
}
