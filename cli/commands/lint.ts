/** `labforge lint <path>...`: every problem as `file:line: severity: message`, then the counts. */
import { formatProblem, lintPaths } from '../../lib/labs/lint';

/** Prints every problem then `2 labs, 0 errors, 1 warning`; returns the exit code (0 only without errors). */
export async function run(paths: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const summary = await lintPaths(paths);
  for (const p of summary.problems) out.write(formatProblem(p) + '\n');
  out.write(`${plural(summary.labs, 'lab')}, ${plural(summary.errors, 'error')}, ${plural(summary.warnings, 'warning')}\n`);
  return summary.errors === 0 && summary.labs > 0 ? 0 : 1;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
