/**
 * Instruqt's track.yml → the fields of our track.yml other than `environment` (config.ts makes
 * that). Most fields mean the same in both (Labforge's format was modelled on Instruqt's);
 * Instruqt's bookkeeping (ids, owners, checksums) is dropped with one warning, and what changes
 * what learners get without an equivalent here is an error at its line.
 */
import { z } from 'zod';
import { positionOf, problemAt, problemIn, type Problem, type YamlSource } from '../../labs/positions';
import { slugProblem, titleOf } from '../scaffold';
import { field, reportKeys, type FieldRule, type Mapping } from './source';

export interface TrackFields {
  slug: string;
  title: string;
  teaser?: string;
  description?: string;
  level?: 'beginner' | 'intermediate' | 'advanced';
  tags?: string[];
  timelimit?: number;
  idle_timeout?: number;
  skipping_enabled?: boolean;
}

/** Instruqt's own records about a track: nothing a learner sees or a lab needs. */
const BOOKKEEPING = [
  'id',
  'type',
  'owner',
  'developers',
  'maintainers',
  'private',
  'published',
  'checksum',
  'version',
  'created_at',
  'updated_at',
  'deleted_at',
];

const RULES: Record<string, FieldRule> = {
  ...Object.fromEntries(BOOKKEEPING.map((k) => [k, { ignore: true }])),
  ...Object.fromEntries(
    ['slug', 'title', 'teaser', 'description', 'level', 'tags', 'timelimit', 'idle_timeout', 'skipping_enabled', 'show_timer'].map((k) => [
      k,
      { convert: true },
    ]),
  ),
  icon: { drop: 'the catalog shows no icons: dropped' },
  lab_config: { drop: "Instruqt's page layout (sidebar, overlay, widths): Labforge has one layout, dropped" },
  enhanced_loading: { drop: 'Labforge shows challenge notes while setup runs: dropped' },
  extended_pause: { drop: 'sessions cannot be paused on Labforge: dropped' },
  hot_start: { drop: 'warm pools are set on the server (LABFORGE_POOL), not in the lab: dropped' },
  challenges: {
    error:
      'challenges listed inside track.yml (the old format) are not converted: pull the track with a current Instruqt CLI to get NN-slug/assignment.md folders',
  },
};

const text = z.union([z.string(), z.number()]).transform(String);
const seconds = z.number().int().positive();

/** `My Track_2` → `my-track-2`: Instruqt slugs are already in our shape; this catches the rest. */
export function toSlug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .replace(/-{2,}/g, '-')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** Undefined when there is no usable slug at all (then nothing can be written). */
export function convertTrack(src: YamlSource, data: Mapping, folder: string, problems: Problem[]): TrackFields | undefined {
  reportKeys(src, [], data, RULES, 'track.yml', problems);
  const present = BOOKKEEPING.filter((k) => data[k] !== undefined);
  if (present.length) {
    const { line } = positionOf(src, [present[0]]);
    problems.push(problemIn(src.file, `${present.join(', ')}: Instruqt's own bookkeeping, no meaning in Labforge: dropped`, 'warning', line));
  }

  const slug = trackSlug(src, data, folder, problems);
  if (!slug) return undefined;
  let title = field(src, data, ['title'], text.pipe(z.string().min(1)), problems);
  if (!title) {
    title = titleOf(slug);
    problems.push(problemAt(src, [], `no title: "${title}" is used`, 'warning'));
  }
  const out: TrackFields = { slug, title };
  out.teaser = field(src, data, ['teaser'], text, problems);
  out.description = field(src, data, ['description'], text, problems);
  const level = field(src, data, ['level'], z.string(), problems);
  if (level === 'beginner' || level === 'intermediate' || level === 'advanced') out.level = level;
  else if (level !== undefined)
    problems.push(problemAt(src, ['level'], `"${level}" is not a Labforge level (beginner, intermediate, advanced): dropped`, 'warning'));
  out.tags = field(src, data, ['tags'], z.array(text), problems);
  out.timelimit = field(src, data, ['timelimit'], seconds, problems);
  out.idle_timeout = field(src, data, ['idle_timeout'], seconds, problems);
  out.skipping_enabled = field(src, data, ['skipping_enabled'], z.boolean(), problems);
  if (field(src, data, ['show_timer'], z.boolean(), problems) === false)
    problems.push(problemAt(src, ['show_timer'], 'Labforge always shows learners the time left: the timer cannot be hidden', 'warning'));
  return out;
}

function trackSlug(src: YamlSource, data: Mapping, folder: string, problems: Problem[]): string | undefined {
  const given = field(src, data, ['slug'], text, problems);
  if (given !== undefined && !slugProblem(given)) return given;
  const slug = toSlug(given ?? folder);
  if (!slug || slugProblem(slug)) {
    problems.push(
      problemAt(
        src,
        given === undefined ? [] : ['slug'],
        `no usable slug (from ${given === undefined ? `the folder name "${folder}"` : `"${given}"`}): nothing can be written`,
      ),
    );
    return undefined;
  }
  const why =
    given === undefined
      ? `no slug: "${slug}" is made from the folder name`
      : `"${given}" is not a Labforge slug (lowercase letters, digits, dashes): "${slug}" is used`;
  problems.push(problemAt(src, given === undefined ? [] : ['slug'], why, 'warning'));
  return slug;
}
