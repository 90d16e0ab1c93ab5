/**
 * The converted parts as Labforge files: track.yml (the track's fields and its Docker hosts)
 * and each assignment.md (front matter and the body as it was). Absent fields are left out so
 * the schema's defaults apply, as in a lab written by hand.
 */
import { Document, stringify } from 'yaml';
import { problemIn, type Problem } from '../../labs/positions';
import type { HostPlan } from './config';
import type { FrontMatter } from './front-matter';
import type { TrackFields } from './track';

const YAML_OPTIONS = { lineWidth: 0 } as const;

export function renderTrack(track: TrackFields, hosts: HostPlan[]): string {
  const doc = new Document({
    ...track,
    environment: {
      driver: 'docker',
      hosts: hosts.map((h) => ({
        name: h.name,
        image: h.image,
        ...(h.shell ? { shell: h.shell } : {}),
        ...(Object.keys(h.env).length ? { env: h.env } : {}),
        ...(h.memory || h.cpus ? { resources: { ...(h.memory ? { memory: h.memory } : {}), ...(h.cpus ? { cpus: h.cpus } : {}) } } : {}),
      })),
    },
  });
  doc.commentBefore = [
    ` Imported from the Instruqt track "${track.slug}" by \`labforge import instruqt\`: the import`,
    ' report lists what changed and what was left out. The lab format: docs/lab-format.md',
  ].join('\n');
  return doc.toString(YAML_OPTIONS);
}

export function renderAssignment(fm: FrontMatter, body: string): string {
  const clean = Object.fromEntries(Object.entries(fm).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
  return `---\n${stringify(clean, YAML_OPTIONS)}---\n${body.startsWith('\n') ? '' : '\n'}${body}${body.endsWith('\n') ? '' : '\n'}`;
}

/**
 * What in an assignment's markdown the Labforge page will not render as Instruqt did: its
 * variables (`[[ Instruqt-Var ... ]]`) and pictures from the track's own files, which the page
 * does not serve. Reported at their lines in the source file.
 */
export function checkBody(body: string, file: string, firstLine: number, problems: Problem[]): void {
  body.split('\n').forEach((line, i) => {
    const at = firstLine + i;
    if (/\[\[\s*Instruqt-/.test(line))
      problems.push(problemIn(file, 'an [[ Instruqt-Var ]] placeholder is shown as written: Labforge does not fill it in', 'warning', at));
    for (const [, src] of line.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)/g))
      if (!/^(https?:|data:)/.test(src))
        problems.push(problemIn(file, `image ${src}: the lab page does not serve the lab's own files, so it will not show (use an https URL)`, 'warning', at));
  });
}
