/**
 * One Instruqt challenge folder (`NN-slug/`: assignment.md and its lifecycle scripts) → the
 * files of one Labforge challenge folder. A challenge counts as converted when its assignment
 * was and none of its check scripts was lost (without them its verdict would change); one
 * converted without a check is still written, for the author to finish.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { MAX_SCRIPT_BYTES } from '../../checks/runner';
import { displayPath, problemIn, type Problem } from '../../labs/positions';
import { ASSIGNMENT_FILE, SCRIPT_NAME, splitFrontMatter } from '../../labs/sources';
import type { Sandbox } from './config';
import { convertFrontMatter } from './front-matter';
import { copyTree, type OutFile } from './lab-files';
import { checkBody, renderAssignment } from './render';
import { convertScript } from './scripts';
import { LIMITS, listEntries, parseMapping, readBounded } from './source';

export interface ChallengeOutcome {
  /** The track's folder, e.g. `01-first-step`. */
  source: string;
  /** The lab's folder, when written. */
  out?: string;
  slug?: string;
  type?: 'challenge' | 'quiz';
  converted: boolean;
}

export async function convertChallenge(
  absDir: string,
  index: number,
  sandbox: Sandbox,
  budget: { bytes: number },
  problems: Problem[],
): Promise<{ outcome: ChallengeOutcome; files: OutFile[] }> {
  const dir = path.basename(absDir);
  const outcome: ChallengeOutcome = { source: dir, converted: false };
  const file = displayPath(path.join(absDir, ASSIGNMENT_FILE));
  const notConverted = (why: string, line = 1) => {
    problems.push(problemIn(file, `${why}: challenge not converted`, 'error', line));
    return { outcome, files: [] };
  };

  const abs = path.join(absDir, ASSIGNMENT_FILE);
  if (!(await fs.lstat(abs).catch(() => undefined))) return notConverted(`challenge folder ${dir} has no ${ASSIGNMENT_FILE}`);
  const text = await readBounded(abs, LIMITS.assignment, problems);
  if (text === undefined) return notConverted(`its ${ASSIGNMENT_FILE} could not be read`);
  const split = splitFrontMatter(text);
  if ('error' in split) return notConverted(split.error, split.line);
  const parsed = parseMapping(split.yaml, file, 1, problems);
  if (!parsed) return notConverted('its front matter could not be read');
  const converted = convertFrontMatter(parsed.src, parsed.data, dir.replace(/^\d+-/, ''), sandbox, problems);
  if (!converted) return { outcome, files: [] };
  const { fm } = converted;

  let body = split.body;
  if (!body.trim() && converted.assignment) {
    body = `\n${converted.assignment}`;
    problems.push(problemIn(file, 'the text from the front matter field assignment: is the body', 'warning', 2));
  }
  checkBody(body, file, split.bodyLine, problems);

  const out = `${String(index + 1).padStart(2, '0')}-${fm.slug}`;
  Object.assign(outcome, { out, slug: fm.slug, type: fm.type ?? 'challenge', converted: true });
  if (out !== dir) problems.push(problemIn(file, `the folder becomes ${out} (Labforge folders are NN-<slug>, numbered in order)`, 'warning'));
  const files: OutFile[] = [{ path: `${out}/${ASSIGNMENT_FILE}`, text: renderAssignment(fm, body), mode: 0o644 }];

  const entries = (await listEntries(absDir, problems)) ?? [];
  const scripts = entries.filter((e) => e.kind === 'file' && SCRIPT_NAME.test(e.name));
  for (const e of scripts) {
    const [, kind, host] = SCRIPT_NAME.exec(e.name)!;
    const script = await convertScriptFile(e.abs, `${out}/${kind}`, kind, host, sandbox, problems);
    if (script) files.push(script);
    else if (kind === 'check') {
      outcome.converted = false;
      problems.push(problemIn(file, `its check script ${e.name} was not converted, so the challenge would pass unchecked: written, but not converted`));
    }
  }
  // Anything else in the folder (pictures, data files) comes along as it is.
  const known = new Set([ASSIGNMENT_FILE, ...scripts.map((e) => e.name)]);
  files.push(...(await copyTree(absDir, out, budget, problems, (name) => known.has(name) || name.startsWith('.'))));
  return { outcome, files };
}

/** A `<kind>-<host>` script for one of our hosts, converted; undefined (reported) when it cannot be. */
export async function convertScriptFile(
  abs: string,
  outPrefix: string,
  kind: string,
  host: string,
  sandbox: Sandbox,
  problems: Problem[],
): Promise<OutFile | undefined> {
  const file = displayPath(abs);
  const ours = sandbox.names.get(host);
  if (!ours) {
    const what = sandbox.dropped.get(host);
    problems.push(
      problemIn(
        file,
        what ? `"${host}" is a ${what}, which is not converted: script not converted` : `no container "${host}" in config.yml: script not converted`,
      ),
    );
    return undefined;
  }
  const text = await readBounded(abs, MAX_SCRIPT_BYTES, problems);
  if (text === undefined) return undefined;
  const r = convertScript(text, file);
  problems.push(...r.problems);
  return { path: `${outPrefix}-${ours}`, text: r.text, mode: 0o755 };
}
