/**
 * Lab folder → typed `Lab`, or the list of problems that stop it from loading.
 * Reading and schema checks live in sources.ts, checks between files in
 * crossref.ts; this module puts them together. A lab is returned only when
 * there is no error (warnings are fine), so whatever the server runs has
 * hosts for every tab and script, and files for every copy.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { checkReferences } from './crossref';
import { displayPath, problemIn, type Problem } from './positions';
import type { Challenge, Lab, ScriptKind } from './schema';
import { readLabSources, TRACK_FILE, type LabSources, type ScriptFile } from './sources';

export type { Problem } from './positions';

export interface LoadResult {
  lab?: Lab;
  problems: Problem[];
}

export async function loadLab(dir: string): Promise<LoadResult> {
  const s = await readLabSources(dir);
  const problems = ordered([...s.problems, ...(await checkReferences(s))], s.trackFile);
  if (problems.some((p) => p.severity === 'error')) return { problems };
  return { lab: toLab(s), problems };
}

/** Every folder directly under `labsDir` that holds a track.yml, in name order. */
export async function loadLabs(labsDir: string): Promise<Array<LoadResult & { dir: string }>> {
  const root = path.resolve(labsDir);
  const names = await fs.readdir(root).catch(() => undefined);
  if (!names) return [{ dir: root, problems: [problemIn(displayPath(root), 'labs folder not found or not readable')] }];
  const out: Array<LoadResult & { dir: string }> = [];
  for (const name of names.sort()) {
    const dir = path.join(root, name);
    if (name.startsWith('.') || !(await isFile(path.join(dir, TRACK_FILE)))) continue;
    out.push({ dir, ...(await loadLab(dir)) });
  }
  return out;
}

/** For callers that cannot go on without the lab: the error lists every problem, one per line. */
export async function loadLabOrThrow(dir: string): Promise<Lab> {
  const { lab, problems } = await loadLab(dir);
  if (lab) return lab;
  const errors = problems.filter((p) => p.severity === 'error');
  const lines = errors.map((p) => `  ${p.file}:${p.line}: ${p.message}`);
  throw new Error(`lab ${displayPath(path.resolve(dir))} has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${lines.join('\n')}`);
}

function toLab(s: LabSources): Lab {
  const challenges: Challenge[] = s.challenges.map((c, index) => ({
    ...c.frontMatter!,
    index,
    dir: c.dir,
    body: c.body,
    scripts: byKind(c.scripts) as Challenge['scripts'],
  }));
  return { root: s.root, track: s.track!, challenges, trackScripts: byKind(s.trackScripts) as Lab['trackScripts'] };
}

/** `[{kind: 'check', host: 'web', abs}]` → `{check: {web: abs}}`. */
function byKind(scripts: ScriptFile[]): Partial<Record<ScriptKind, Record<string, string>>> {
  const out: Partial<Record<ScriptKind, Record<string, string>>> = {};
  for (const sc of scripts) (out[sc.kind as ScriptKind] ??= {})[sc.host] = sc.abs;
  return out;
}

/** track.yml first, then the other files by path (so challenges in order), by line within a file. */
function ordered(problems: Problem[], trackFile: string): Problem[] {
  const key = (f: string) => (f === trackFile ? '' : f);
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => cmp(key(a.p.file), key(b.p.file)) || a.p.line - b.p.line || a.i - b.i)
    .map(({ p }) => p);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then((st) => st.isFile(), () => false);
}
