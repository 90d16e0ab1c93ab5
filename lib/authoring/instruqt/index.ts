/**
 * `labforge import instruqt <dir>`: an Instruqt track folder → a Labforge lab folder, and a
 * report of what could not be converted (report.ts). Reads the whole track first (track.ts,
 * config.ts, images.ts, challenge.ts), writes only then (lab-files.ts), and lints what it
 * wrote, so a report without errors means a lab that loads. The command is cli/commands/import.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { lintLab } from '../../labs/lint';
import { displayPath, problemIn, type Problem } from '../../labs/positions';
import { ASSIGNMENT_FILE, TRACK_FILE, TRACK_SCRIPTS_DIR } from '../../labs/sources';
import { convertChallenge, convertScriptFile, type ChallengeOutcome } from './challenge';
import { convertConfig, type Sandbox } from './config';
import { resolveImages, type ImageProbe } from './images';
import { copyTree, prepareOut, writeFiles, type OutFile } from './lab-files';
import { renderTrack } from './render';
import { finish, type ImportReport } from './report';
import { LIMITS, listEntries, parseMapping, readBounded, type Entry } from './source';
import { convertTrack } from './track';

export type { ImportReport } from './report';
export type { ImageProbe, ImageStatus } from './images';
export { formatReport } from './report';

export const CONFIG_FILE = 'config.yml';

export interface ImportOptions {
  /** The Instruqt track folder (the one holding track.yml). */
  source: string;
  /** The lab folder to write; default `labs/<track slug>`, from the current directory. */
  out?: string;
  /** Replace the lab in a non-empty `out` (only its track.yml, challenge folders, track_scripts/, assets/). */
  force?: boolean;
  /** Asks the local container engine about images (images.ts). */
  probe: ImageProbe;
}

export async function importInstruqt(opts: ImportOptions): Promise<ImportReport> {
  const root = path.resolve(opts.source);
  const problems: Problem[] = [];
  const report = {
    source: displayPath(root),
    written: false,
    challenges: [] as ChallengeOutcome[],
    hosts: [] as string[],
    images: [] as ImportReport['images'],
    problems,
  };
  const done = (lintErrors = 0) => finish(report, lintErrors);

  if (!(await fs.stat(root).catch(() => undefined))?.isDirectory()) {
    problems.push(problemIn(report.source, 'not a folder: name the folder of an Instruqt track, the one holding track.yml'));
    return done();
  }
  const track = await readYaml(root, TRACK_FILE, problems, 'not an Instruqt track folder: it has no track.yml');
  const trackFields = track && convertTrack(track.src, track.data, path.basename(root), problems);
  const config = await readYaml(root, CONFIG_FILE, problems, 'no config.yml: the track has no sandbox, so the lab would have no host');
  const sandbox = config ? convertConfig(config.src, config.data, problems) : undefined;
  if (config && sandbox?.hosts.length) report.images = await resolveImages(config.src, sandbox.hosts, opts.probe, problems);

  const entries = (await listEntries(root, problems)) ?? [];
  const files: OutFile[] = [];
  if (sandbox) {
    const budget = { bytes: LIMITS.assets };
    const challengeDirs = await challengeFolders(entries);
    if (!challengeDirs.length) problems.push(problemIn(report.source, 'no challenge folders (NN-slug/assignment.md): nothing to convert'));
    for (const [i, e] of challengeDirs.entries()) {
      const c = await convertChallenge(e.abs, i, sandbox, budget, problems);
      report.challenges.push(c.outcome);
      files.push(...c.files);
    }
    files.push(...(await trackScripts(root, sandbox, problems)));
    const assets = entries.find((e) => e.name === 'assets' && e.kind === 'dir');
    if (assets) files.push(...(await copyTree(assets.abs, 'assets', budget, problems)));
    const known = new Set([TRACK_FILE, CONFIG_FILE, TRACK_SCRIPTS_DIR, 'assets', ...challengeDirs.map((e) => e.name)]);
    for (const e of entries.filter((e) => !known.has(e.name) && !e.name.startsWith('.')))
      problems.push(
        problemIn(
          displayPath(e.abs),
          'not part of an Instruqt track (track.yml, config.yml, challenge folders, track_scripts/, assets/): not copied',
          'warning',
        ),
      );
  }
  if (!trackFields || !sandbox?.hosts.length || !report.challenges.some((c) => c.out)) return done();

  const out = path.resolve(opts.out ?? path.join('labs', trackFields.slug));
  Object.assign(report, { out: displayPath(out), slug: trackFields.slug, hosts: sandbox.hosts.map((h) => h.name) });
  const refused = await prepareOut(out, root, opts.force ?? false);
  if (refused) {
    problems.push(problemIn(displayPath(out), `${refused}: nothing written`));
    return done();
  }
  await writeFiles(out, [{ path: TRACK_FILE, text: renderTrack(trackFields, sandbox.hosts), mode: 0o644 }, ...files]);
  report.written = true;
  const lint = await lintLab(out);
  problems.push(...lint);
  return done(lint.filter((p) => p.severity === 'error').length);
}

async function readYaml(root: string, name: string, problems: Problem[], missing: string) {
  const abs = path.join(root, name);
  if (!(await fs.lstat(abs).catch(() => undefined))) {
    problems.push(problemIn(displayPath(abs), missing));
    return undefined;
  }
  const text = await readBounded(abs, LIMITS.yaml, problems);
  return text === undefined ? undefined : parseMapping(text, displayPath(abs), 0, problems);
}

/** Folders named `NN-...` or holding an assignment.md, ordered by their number, then name. */
async function challengeFolders(entries: Entry[]): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const e of entries) {
    if (e.kind !== 'dir' || e.name === TRACK_SCRIPTS_DIR || e.name === 'assets' || e.name.startsWith('.')) continue;
    if (/^\d+-/.test(e.name) || (await fs.lstat(path.join(e.abs, ASSIGNMENT_FILE)).catch(() => undefined))) out.push(e);
  }
  const num = (e: Entry) => Number(/^(\d+)-/.exec(e.name)?.[1] ?? Infinity);
  return out.sort((a, b) => num(a) - num(b) || a.name.localeCompare(b.name));
}

/** `track_scripts/setup-<host>` and `cleanup-<host>`, for converted hosts. */
async function trackScripts(root: string, sandbox: Sandbox, problems: Problem[]): Promise<OutFile[]> {
  const out: OutFile[] = [];
  for (const e of (await listEntries(path.join(root, TRACK_SCRIPTS_DIR), problems)) ?? []) {
    const m = /^(setup|cleanup)-(.+)$/.exec(e.name);
    if (e.kind !== 'file' || !m) {
      if (!e.name.startsWith('.'))
        problems.push(problemIn(displayPath(e.abs), 'only setup-<host> and cleanup-<host> run at track level: not copied', 'warning'));
      continue;
    }
    const script = await convertScriptFile(e.abs, `${TRACK_SCRIPTS_DIR}/${m[1]}`, m[1], m[2], sandbox, problems);
    if (script) out.push(script);
  }
  return out;
}
