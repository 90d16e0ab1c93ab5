/**
 * Lint: every problem of one or more labs, in the `file:line: severity:
 * message` form editors and CI logs understand. The checks themselves are the
 * loader's (schema) and crossref.ts's; `labforge lint` (cli/commands/lint.ts)
 * prints what this returns.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadLab } from './loader';
import { displayPath, problemIn, type Problem } from './positions';
import { ASSIGNMENT_FILE, TRACK_FILE } from './sources';

/** All problems of one lab folder (schema and cross-references), errors and warnings. */
export async function lintLab(dir: string): Promise<Problem[]> {
  return (await loadLab(dir)).problems;
}

/** `labs/x/track.yml:12: error: environment.hosts[1].name: must be ...` */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}: ${p.severity}: ${p.message}`;
}

export interface LintSummary {
  problems: Problem[];
  errors: number;
  warnings: number;
  /** Lab folders linted. */
  labs: number;
}

/**
 * Lints each path: a lab folder, a folder of labs (every subfolder with a
 * track.yml), or a track.yml / assignment.md inside a lab. Other files are
 * skipped with a warning, so `labforge lint labs/*` works next to a README.
 */
export async function lintPaths(paths: string[]): Promise<LintSummary> {
  const problems: Problem[] = [];
  const labDirs: string[] = [];
  for (const p of paths) {
    const abs = path.resolve(p);
    const st = await fs.stat(abs).catch(() => undefined);
    if (!st) problems.push(problemIn(displayPath(abs), 'not found'));
    else if (st.isFile()) {
      const name = path.basename(abs);
      if (name === TRACK_FILE) labDirs.push(path.dirname(abs));
      else if (name === ASSIGNMENT_FILE) labDirs.push(path.dirname(path.dirname(abs)));
      else problems.push(problemIn(displayPath(abs), 'not a lab folder, skipped', 'warning'));
    } else if (await exists(path.join(abs, TRACK_FILE))) labDirs.push(abs);
    else {
      const subs = (await fs.readdir(abs)).sort().map((n) => path.join(abs, n));
      const labs = [];
      for (const s of subs) if (await exists(path.join(s, TRACK_FILE))) labs.push(s);
      if (labs.length) labDirs.push(...labs);
      else problems.push(problemIn(displayPath(abs), `no ${TRACK_FILE} here nor in its subfolders: not a lab folder`));
    }
  }
  const unique = [...new Set(labDirs)];
  for (const dir of unique) problems.push(...(await lintLab(dir)));
  return {
    problems,
    errors: problems.filter((p) => p.severity === 'error').length,
    warnings: problems.filter((p) => p.severity === 'warning').length,
    labs: unique.length,
  };
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(() => true, () => false);
}
