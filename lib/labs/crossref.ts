/**
 * Checks between the parts of a lab that the schema cannot see: tabs, scripts
 * and grades name hosts that track.yml declares, files to copy exist inside
 * the lab folder, challenge folders and slugs agree and are unique, scripts
 * can run (shebang), and hints for likely mistakes (misspelled script names,
 * no check or no solve: coverage.ts, empty assignment). Errors stop a lab from loading;
 * warnings do not.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { checkCoverage } from './coverage';
import { closest } from './messages';
import { displayPath, problemAt, problemIn, type Problem, type YamlSource } from './positions';
import { SCRIPT_KINDS, type ChallengeFrontMatter } from './schema';
import { checkVariableUses, TRACK_SCOPE } from './variable-uses';
import { ASSIGNMENT_FILE, TRACK_SCRIPTS_DIR, type ChallengeSource, type LabSources, type ScriptFile } from './sources';

const CHALLENGE_DIR = /^(\d+)-([a-z0-9][a-z0-9-]*)$/;

export async function checkReferences(s: LabSources): Promise<Problem[]> {
  const out: Problem[] = [];
  // When track.yml is too broken to tell which hosts or variables exist, skip the checks
  // against them rather than flag every script and tab.
  const hosts = declaredHosts(s);
  const variables = declaredVariables(s);

  if (s.trackSrc && hosts) out.push(...duplicates(s.trackSrc, hosts.entries, ['environment', 'hosts'], 'name', 'host'));
  if (s.trackSrc && variables) out.push(...duplicates(s.trackSrc, variables.entries, ['variables'], 'name', 'variable'));
  if (s.track && s.trackSrc) out.push(...(await checkHostFiles(s, s.trackSrc)));
  if (s.trackSrc && s.challenges.length === 0)
    out.push(problemIn(s.trackFile, 'the lab has no challenges: add folders like 01-first-step/assignment.md'));
  if (await exists(path.join(s.root, 'config.yml'))) {
    const msg = "config.yml is Instruqt's sandbox file and is ignored: declare hosts under environment: in track.yml";
    out.push(problemIn(displayPath(path.join(s.root, 'config.yml')), msg, 'warning'));
  }

  const slugs = new Map<string, ChallengeSource>();
  const numbers = new Map<number, ChallengeSource>();
  for (const c of s.challenges) {
    out.push(...checkChallengeNaming(c, slugs, numbers));
    if (c.src && c.frontMatter) out.push(...checkFrontMatterRefs(c.frontMatter, c.src, hosts?.names, variables?.names));
    for (const sc of c.scripts) out.push(...(await checkScript(sc, hosts?.names)));
    out.push(...misspelledScripts(c.otherFiles, c.absDir, hosts?.names ?? new Set()));
    out.push(...checkCoverage(c));
    if (c.src && c.frontMatter && c.body.trim() === '')
      out.push(problemIn(c.assignmentFile, 'the assignment text below the front matter is empty', 'warning', c.bodyLine));
  }

  for (const sc of s.trackScripts) out.push(...(await checkScript(sc, hosts?.names)));
  if (s.track) {
    const scripts = [
      ...s.trackScripts.map((sc) => ({ ...sc, challenge: TRACK_SCOPE })),
      ...s.challenges.flatMap((c) => c.scripts.map((sc) => ({ ...sc, challenge: c.frontMatter?.slug ?? c.dir.replace(/^\d+-/, '') }))),
    ];
    out.push(...(await checkVariableUses(s.track, scripts)));
  }
  const trackDir = path.join(s.root, TRACK_SCRIPTS_DIR);
  const challengeOnly = s.trackScriptsOther.filter((n) => /^(check|solve)-/.test(n));
  for (const name of challengeOnly) {
    const msg = `only setup-<host> and cleanup-<host> run at track level: ${name} is never run (${name.split('-')[0]} scripts belong in a challenge folder)`;
    out.push(problemIn(displayPath(path.join(trackDir, name)), msg, 'warning'));
  }
  const others = s.trackScriptsOther.filter((n) => !challengeOnly.includes(n));
  out.push(...misspelledScripts(others, trackDir, hosts?.names ?? new Set(), ['setup', 'cleanup']));
  return out;
}

interface Named {
  names: Set<string>;
  /** Index in the YAML list and the name found there. */
  entries: Array<[number, string]>;
}

/**
 * Host names from track.yml. When the schema failed, read them from the raw YAML so the
 * other checks still run; undefined when even that gives nothing.
 */
function declaredHosts(s: LabSources): Named | undefined {
  if (s.track) return named(s.track.environment.hosts.map((h) => h.name));
  const list = (rawTrack(s) as { environment?: { hosts?: unknown } } | undefined)?.environment?.hosts;
  const found = Array.isArray(list) ? named(list.map((h: unknown) => (h as { name?: unknown } | null)?.name)) : undefined;
  return found?.entries.length ? found : undefined;
}

function declaredVariables(s: LabSources): Named | undefined {
  if (s.track) return named(s.track.variables.map((v) => v.name));
  const raw = rawTrack(s) as { variables?: unknown } | undefined;
  if (!raw) return undefined;
  return named(Array.isArray(raw.variables) ? raw.variables.map((v: unknown) => (v as { name?: unknown } | null)?.name) : []);
}

function rawTrack(s: LabSources): object | undefined {
  if (!s.trackSrc || s.trackSrc.doc.errors.length) return undefined;
  try {
    const raw: unknown = s.trackSrc.doc.toJS({ maxAliasCount: 100 });
    return raw && typeof raw === 'object' ? raw : undefined;
  } catch {
    return undefined;
  }
}

function named(values: unknown[]): Named {
  const entries = values.flatMap((v, i): Array<[number, string]> => (typeof v === 'string' ? [[i, v]] : []));
  return { names: new Set(entries.map(([, n]) => n)), entries };
}

function duplicates(src: YamlSource, entries: Named['entries'], list: string[], key: string, what: string): Problem[] {
  const seen = new Map<string, number>();
  const out: Problem[] = [];
  for (const [i, name] of entries) {
    const first = seen.get(name);
    if (first === undefined) seen.set(name, i);
    else {
      const msg = `${what} "${name}" is declared twice (first at ${list.join('.')}[${first}])`;
      out.push(problemAt(src, [...list, i, key], msg));
    }
  }
  return out;
}

/**
 * `files: [{from}]` must name something inside the lab folder (no `..`, no symlink out), and
 * not the folder itself, which would hand the learner every solve script.
 */
async function checkHostFiles(s: LabSources, src: YamlSource): Promise<Problem[]> {
  const out: Problem[] = [];
  const realRoot = await fs.realpath(s.root);
  for (const [h, host] of s.track!.environment.hosts.entries()) {
    for (const [f, file] of host.files.entries()) {
      const at = ['environment', 'hosts', h, 'files', f, 'from'];
      const abs = path.resolve(s.root, file.from);
      if (path.isAbsolute(file.from) || isOutside(s.root, abs)) {
        out.push(problemAt(src, at, `"${file.from}" must be a path inside the lab folder (relative, no ..)`));
        continue;
      }
      if (abs === s.root) {
        out.push(problemAt(src, at, `"${file.from}" is the whole lab folder (scripts and solutions included): name a file or folder in it`));
        continue;
      }
      const real = await fs.realpath(abs).catch(() => undefined);
      if (!real) out.push(problemAt(src, at, `"${file.from}" not found in the lab folder`));
      else if (isOutside(realRoot, real))
        out.push(problemAt(src, at, `"${file.from}" is a symlink to outside the lab folder`));
    }
  }
  return out;
}

/** Folders are `NN-<slug>` with the front matter's slug; numbers and slugs are unique. */
function checkChallengeNaming(
  c: ChallengeSource,
  slugs: Map<string, ChallengeSource>,
  numbers: Map<number, ChallengeSource>,
): Problem[] {
  const out: Problem[] = [];
  const m = CHALLENGE_DIR.exec(c.dir);
  if (!m) {
    const example = `01-${c.frontMatter?.slug ?? 'first-step'}`;
    out.push(problemIn(c.assignmentFile, `challenge folder "${c.dir}" must be named NN-<slug> (like ${example}): the number orders challenges`));
  }
  if (c.number !== undefined) {
    const other = numbers.get(c.number);
    if (!other) numbers.set(c.number, c);
    else {
      const msg = `two challenge folders are numbered ${c.number}: ${other.dir} and ${c.dir}; the order would be ambiguous`;
      out.push(problemIn(c.assignmentFile, msg));
    }
  }
  if (!c.src || !c.frontMatter) return out;
  const slug = c.frontMatter.slug;
  if (m && m[2] !== slug) {
    const msg = `"${slug}" does not match the folder name ${c.dir}: rename the folder to ${m[1]}-${slug} or set slug: ${m[2]}`;
    out.push(problemAt(c.src, ['slug'], msg));
  }
  const other = slugs.get(slug);
  if (!other) slugs.set(slug, c);
  else {
    const msg = `"${slug}" is already used by ${other.dir}/${ASSIGNMENT_FILE}: challenge slugs must be unique`;
    out.push(problemAt(c.src, ['slug'], msg));
  }
  return out;
}

/** Tabs and grades name declared hosts and variables; regexes compile; quiz fields only on quizzes. */
function checkFrontMatterRefs(fm: ChallengeFrontMatter, src: YamlSource, hosts?: Set<string>, variables?: Set<string>): Problem[] {
  const out: Problem[] = [];
  fm.tabs.forEach((tab, i) => {
    if (hosts && tab.hostname !== undefined && !hosts.has(tab.hostname))
      out.push(problemAt(src, ['tabs', i, 'hostname'], unknownHost(tab.hostname, hosts)));
  });
  if (fm.grade) {
    if (hosts && !hosts.has(fm.grade.host)) out.push(problemAt(src, ['grade', 'host'], unknownHost(fm.grade.host, hosts)));
    fm.grade.fields.forEach((field, i) => {
      const v = 'variable' in field.expected ? field.expected.variable : undefined;
      const at = ['grade', 'fields', i, 'expected'];
      if (variables && v !== undefined && !variables.has(v))
        out.push(problemAt(src, [...at, 'variable'], `variable "${v}" is not declared under variables: in track.yml${list(variables)}`));
      if ('regex' in field.expected) {
        try {
          new RegExp(field.expected.regex);
        } catch (e) {
          out.push(problemAt(src, [...at, 'regex'], `not a valid regular expression: ${(e as Error).message}`));
        }
      }
    });
  }
  fm.inject.forEach((inj, i) => {
    for (const field of ['from', 'payload'] as const) {
      for (const [, name] of inj[field].matchAll(/\$\{([A-Za-z0-9_]+)\}/g))
        if (variables && !variables.has(name))
          out.push(problemAt(src, ['inject', i, field], `\${${name}} is not a variable declared under variables: in track.yml${list(variables)}`));
    }
    if (hosts && !inj.from.includes('${') && !inj.from.startsWith('pod/') && !hosts.has(inj.from)) out.push(problemAt(src, ['inject', i, 'from'], unknownHost(inj.from, hosts)));
  });
  if (fm.type !== 'quiz' && (fm.answers || fm.solution))
    out.push(problemAt(src, [fm.answers ? 'answers' : 'solution'], 'answers and solution are only used when type: quiz', 'warning'));
  return out;
}

/** The host must exist; the file must start with `#!` (hosts run it as an executable). */
async function checkScript(sc: ScriptFile, hosts?: Set<string>): Promise<Problem[]> {
  const out: Problem[] = [];
  const name = path.basename(sc.abs);
  if (hosts && !hosts.has(sc.host)) {
    const bare = sc.host.replace(/\.(sh|bash)$/, '');
    out.push(
      problemIn(
        sc.file,
        bare !== sc.host && hosts.has(bare)
          ? `scripts have no extension: rename ${name} to ${sc.kind}-${bare}`
          : `script ${name} is for host "${sc.host}", which track.yml does not declare${suggestHost(sc.host, hosts)}`,
      ),
    );
  }
  const fh = await fs.open(sc.abs, 'r').catch(() => undefined);
  if (!fh) return [...out, problemIn(sc.file, `cannot read ${name}`)];
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    if (bytesRead < 2 || buffer.toString('latin1') !== '#!') {
      const msg = `${name} must start with a shebang line such as #!/bin/bash (it is run as an executable in the host)`;
      out.push(problemIn(sc.file, msg));
    }
    // Labforge sets the mode when it copies a script into a host, so this is only a hint
    // (running it by hand from the lab folder would fail).
    if (((await fh.stat()).mode & 0o111) === 0) {
      const msg = `${name} is not executable (chmod +x ${name}); it still runs, since Labforge sets the mode when copying it in`;
      out.push(problemIn(sc.file, msg, 'warning'));
    }
  } finally {
    await fh.close();
  }
  return out;
}

/** Files that are almost a script name (`chek-workstation`, `check_web`, `setup.sh`) are probably meant to be one. */
function misspelledScripts(names: string[], dir: string, hosts: Set<string>, kinds: readonly string[] = SCRIPT_KINDS): Problem[] {
  const out: Problem[] = [];
  for (const name of names) {
    const m = /^([a-z]+)[-_](.+)$/i.exec(name) ?? /^([a-z]+)(?:\.(?:sh|bash))?$/i.exec(name);
    if (!m) continue;
    const word = m[1].toLowerCase();
    const kind = kinds.includes(word) ? word : closest(word, kinds);
    if (!kind) continue;
    const host = (m[2] ?? '').replace(/\.(sh|bash)$/, '');
    const want = hosts.has(host) ? `${kind}-${host}` : `${kind}-<host>${list(hosts, 'hosts')}`;
    const msg = `"${name}" looks like a lifecycle script but is never run: scripts are named ${want}`;
    out.push(problemIn(displayPath(path.join(dir, name)), msg, 'warning'));
  }
  return out;
}

function unknownHost(host: string, hosts: Set<string>): string {
  return `host "${host}" is not declared in track.yml environment.hosts${suggestHost(host, hosts)}`;
}

function suggestHost(host: string, hosts: Set<string>): string {
  const near = closest(host, [...hosts]);
  return near ? ` (did you mean "${near}"?)` : list(hosts, 'hosts');
}

function list(names: Set<string>, label = 'declared'): string {
  return names.size ? ` (${label}: ${[...names].join(', ')})` : '';
}

function isOutside(root: string, abs: string): boolean {
  const rel = path.relative(root, abs);
  return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(() => true, () => false);
}
