/**
 * `labforge new`: the files of a new lab that passes `labforge lint` and `labforge test` as
 * generated, so an author starts from something that works and changes one thing at a time.
 * Two challenges show every script kind, a terminal and an editor tab; the comment at the top
 * of track.yml says what to edit next. This returns the files (their text is in
 * scaffold-templates.ts); the command, cli/commands/new.ts, writes them.
 */
import { trackSchema } from '../labs/schema';
import { DOCKER, KIND, type Variant } from './scaffold-templates';

export const DRIVERS = ['docker', 'kind'] as const;
export type ScaffoldDriver = (typeof DRIVERS)[number];

export interface ScaffoldFile {
  /** Relative to the lab folder. */
  path: string;
  text: string;
  executable: boolean;
}

/** Why on a first line of each script kind: the author sees what the file is for where they edit it. */
const PURPOSE: Record<string, string> = {
  setup: '# Runs before the challenge shows: put the hosts in the state the assignment starts from.',
  check: '# Runs when the learner presses Check. Exit 0 passes; a line "FAIL: <what is missing>" fails\n# the check and is the one thing the learner is shown.',
  solve: "# Does the learner's work: `labforge test` runs it to prove the check can pass, and skipping runs it.",
  cleanup: '# Runs when the learner moves on: stop what this challenge started.',
};

/** Undefined for a good slug, else why not (the schema's own rule, so lint agrees). */
export function slugProblem(slug: string): string | undefined {
  const r = trackSchema.shape.slug.safeParse(slug);
  return r.success ? undefined : `"${slug}" is not a lab slug: ${r.error.issues[0]?.message ?? 'invalid'}`;
}

/** `my-first-lab` → `My first lab`. */
export function titleOf(slug: string): string {
  const words = slug.split('-').filter(Boolean).join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function scaffoldLab(slug: string, driver: ScaffoldDriver = 'docker'): ScaffoldFile[] {
  const problem = slugProblem(slug);
  if (problem) throw new Error(problem);
  const v = driver === 'kind' ? KIND : DOCKER;
  const files: ScaffoldFile[] = [{ path: 'track.yml', text: trackYml(slug, v), executable: false }];
  for (const c of v.challenges) {
    files.push({ path: `${c.dir}/assignment.md`, text: `---\n${c.frontMatter}---\n\n${c.body}`, executable: false });
    for (const [name, body] of Object.entries(c.scripts))
      files.push({ path: `${c.dir}/${name}`, text: `#!/bin/bash\n${PURPOSE[name.split('-')[0]]}\n${body}`, executable: true });
  }
  return files;
}

function trackYml(slug: string, v: Variant): string {
  return `# ${titleOf(slug)}: made by \`labforge new\`. As generated it passes \`labforge lint\` and \`labforge test\`;
# keep it so while you make it yours, one change at a time.
#
# What to edit next:
#   1. title, teaser and description below: what learners will do and learn.
#   2. environment: the machines learners get (hosts[].files copies files from assets/ into a host).
#   3. the challenges, one NN-<slug>/ folder each, in order:
#        assignment.md    front matter (slug, title, tabs) and the text learners read
#        setup-<host>     prepares the host before the challenge shows
#        check-<host>     the Check button: prints "FAIL: <what is missing>" until the work is done
#        solve-<host>     does the learner's work, for \`labforge test\` and for skipping
#        cleanup-<host>   runs when the learner moves on
#   4. after each edit: labforge lint <this folder>; before you publish: labforge test <this folder>
# The whole format: docs/lab-format.md
slug: ${slug}
title: ${titleOf(slug)}
teaser: ${v.teaser}
description: |
${v.description.replace(/^(?=.)/gm, '  ')}level: beginner
tags: []
timelimit: 1800
${v.environment}`;
}
