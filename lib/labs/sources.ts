/**
 * Reads a lab folder into its parts, each with the positions needed to report
 * problems: track.yml, every `NN-slug/assignment.md` (front matter + body),
 * the lifecycle scripts beside them and `track_scripts/`. Schema problems are
 * collected here; cross-references between the parts are checked in
 * crossref.ts. Never throws on bad content: a missing or broken part is left
 * undefined and described in `problems`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { challengeFrontMatterSchema, trackSchema, type ChallengeFrontMatter, type Track } from './schema';
import { validate } from './messages';
import { displayPath, parseYaml, problemIn, type Problem, type YamlSource } from './positions';

export const TRACK_FILE = 'track.yml';
export const ASSIGNMENT_FILE = 'assignment.md';
export const TRACK_SCRIPTS_DIR = 'track_scripts';
/** `setup-web`, `check-workstation`: kind, dash, host. */
export const SCRIPT_NAME = /^(setup|check|solve|cleanup)-(.+)$/;

export interface ScriptFile {
  kind: string;
  host: string;
  abs: string;
  /** Display path. */
  file: string;
}

export interface ChallengeSource {
  /** Folder name, e.g. `01-meet-the-fleet`. */
  dir: string;
  absDir: string;
  /** The NN prefix of the folder name, when there is one. */
  number?: number;
  /** Display path of assignment.md. */
  assignmentFile: string;
  /** Front matter YAML, when assignment.md exists and has front matter. */
  src?: YamlSource;
  frontMatter?: ChallengeFrontMatter;
  body: string;
  /** Line of the file where the body starts. */
  bodyLine: number;
  scripts: ScriptFile[];
  /** Other plain files in the folder (names), for misspelled-script hints. */
  otherFiles: string[];
}

export interface LabSources {
  root: string;
  trackFile: string;
  trackSrc?: YamlSource;
  track?: Track;
  challenges: ChallengeSource[];
  trackScripts: ScriptFile[];
  trackScriptsOther: string[];
  problems: Problem[];
}

export async function readLabSources(dir: string): Promise<LabSources> {
  const root = path.resolve(dir);
  const trackFile = displayPath(path.join(root, TRACK_FILE));
  const out: LabSources = { root, trackFile, challenges: [], trackScripts: [], trackScriptsOther: [], problems: [] };

  const entries = await listDir(root);
  if (!entries) {
    out.problems.push(problemIn(displayPath(root), 'lab folder not found or not readable'));
    return out;
  }
  const trackText = await readText(path.join(root, TRACK_FILE));
  if (trackText === undefined) {
    out.problems.push(problemIn(trackFile, `no ${TRACK_FILE}: every lab folder needs one (slug, title, environment)`));
  } else {
    const { source, problems } = parseYaml(trackText, trackFile);
    out.trackSrc = source;
    out.problems.push(...problems);
    if (!problems.some((p) => p.severity === 'error')) {
      const data = toJS(source, out.problems);
      if (data !== undefined) {
        const r = validate(trackSchema, data, source);
        out.track = r.value;
        out.problems.push(...r.problems);
      }
    }
  }

  for (const e of entries) {
    if (!e.dir || e.name.startsWith('.') || e.name === TRACK_SCRIPTS_DIR) continue;
    const absDir = path.join(root, e.name);
    const files = (await listDir(absDir)) ?? [];
    const isChallenge = /^\d+-/.test(e.name) || files.some((f) => f.name === ASSIGNMENT_FILE && !f.dir);
    if (isChallenge) out.challenges.push(await readChallenge(absDir, files, out.problems));
  }
  out.challenges.sort((a, b) => (a.number ?? Infinity) - (b.number ?? Infinity) || a.dir.localeCompare(b.dir));

  const ts = await listDir(path.join(root, TRACK_SCRIPTS_DIR));
  for (const f of ts ?? []) {
    if (f.dir) continue;
    const m = /^(setup|cleanup)-(.+)$/.exec(f.name);
    const abs = path.join(root, TRACK_SCRIPTS_DIR, f.name);
    if (m) out.trackScripts.push({ kind: m[1], host: m[2], abs, file: displayPath(abs) });
    else out.trackScriptsOther.push(f.name);
  }
  return out;
}

async function readChallenge(absDir: string, files: Entry[], problems: Problem[]): Promise<ChallengeSource> {
  const dir = path.basename(absDir);
  const nn = /^(\d+)-/.exec(dir);
  const assignmentFile = displayPath(path.join(absDir, ASSIGNMENT_FILE));
  const c: ChallengeSource = {
    dir,
    absDir,
    number: nn ? Number(nn[1]) : undefined,
    assignmentFile,
    body: '',
    bodyLine: 1,
    scripts: [],
    otherFiles: [],
  };
  for (const f of files) {
    if (f.dir || f.name === ASSIGNMENT_FILE) continue;
    const m = SCRIPT_NAME.exec(f.name);
    const abs = path.join(absDir, f.name);
    if (m) c.scripts.push({ kind: m[1], host: m[2], abs, file: displayPath(abs) });
    else c.otherFiles.push(f.name);
  }

  const text = await readText(path.join(absDir, ASSIGNMENT_FILE));
  if (text === undefined) {
    problems.push(problemIn(assignmentFile, `missing: challenge folder ${dir} needs an ${ASSIGNMENT_FILE}`));
    return c;
  }
  const split = splitFrontMatter(text);
  if ('error' in split) {
    problems.push(problemIn(assignmentFile, split.error, 'error', split.line));
    return c;
  }
  c.body = split.body;
  c.bodyLine = split.bodyLine;
  const { source, problems: yamlProblems } = parseYaml(split.yaml, assignmentFile, 1);
  c.src = source;
  problems.push(...yamlProblems);
  if (yamlProblems.some((p) => p.severity === 'error')) return c;
  const data = toJS(source, problems);
  if (data === undefined) return c;
  if (data === null) {
    problems.push(problemIn(assignmentFile, 'front matter is empty: it needs at least slug and title', 'error', 2));
    return c;
  }
  const r = validate(challengeFrontMatterSchema, data, source);
  c.frontMatter = r.value;
  problems.push(...r.problems);
  return c;
}

type Split = { yaml: string; body: string; bodyLine: number } | { error: string; line: number };

/** Front matter is the YAML between a first line `---` and the next `---` (or `...`) line. */
export function splitFrontMatter(text: string): Split {
  const lines = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n');
  if (lines[0].trim() !== '---')
    return { error: 'assignment.md must start with front matter: a line `---`, the YAML fields, then `---`', line: 1 };
  const end = lines.findIndex((l, i) => i > 0 && /^(---|\.\.\.)\s*$/.test(l));
  if (end < 0) return { error: 'front matter opened with `---` on line 1 is never closed by another `---` line', line: 1 };
  const body = lines.slice(end + 1).join('\n');
  return { yaml: lines.slice(1, end).join('\n'), body, bodyLine: end + 2 };
}

/** The document as plain data; undefined (and a problem) when even that fails, e.g. an alias bomb. */
function toJS(src: YamlSource, problems: Problem[]): unknown {
  try {
    return src.doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    problems.push(problemIn(src.file, `YAML: ${(e as Error).message}`, 'error', src.lineOffset + 1));
    return undefined;
  }
}

interface Entry {
  name: string;
  dir: boolean;
}

/** Entries of a folder (symlinks followed), sorted by name; undefined if it is not a readable folder. */
async function listDir(dir: string): Promise<Entry[] | undefined> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).sort();
  } catch {
    return undefined;
  }
  const out: Entry[] = [];
  for (const name of names) {
    const st = await fs.stat(path.join(dir, name)).catch(() => undefined);
    if (st) out.push({ name, dir: st.isDirectory() });
  }
  return out;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}
