/**
 * An Instruqt assignment's front matter → ours. The fields are mostly the same (Labforge's
 * format follows Instruqt's); notes that are images or videos become markdown, tabs go through
 * tabs.ts. Undefined when the challenge cannot be converted at all: an unknown type, or a quiz
 * without answers and solution (it could not be graded).
 */
import { z } from 'zod';
import { problemAt, type Problem, type YamlSource } from '../../labs/positions';
import { titleOf } from '../scaffold';
import type { Sandbox } from './config';
import { field, isMapping, reportKeys, type FieldRule, type Mapping } from './source';
import { convertTabs, type Tab } from './tabs';
import { toSlug } from './track';

export interface FrontMatter {
  slug: string;
  type?: 'quiz';
  title: string;
  teaser?: string;
  notes?: Array<{ type: 'text'; contents: string }>;
  tabs?: Tab[];
  difficulty?: 'basic' | 'intermediate' | 'advanced';
  timelimit?: number;
  answers?: string[];
  solution?: number[];
}

const RULES: Record<string, FieldRule> = {
  ...Object.fromEntries(
    ['slug', 'type', 'title', 'teaser', 'notes', 'tabs', 'difficulty', 'timelimit', 'answers', 'solution', 'assignment'].map((k) => [k, { convert: true }]),
  ),
  id: { ignore: true },
  lab_config: { drop: "Instruqt's page layout: Labforge has one layout, dropped" },
  enhanced_loading: { drop: 'Labforge shows the notes while setup runs: dropped' },
};

const text = z.union([z.string(), z.number()]).transform(String);

/** `assignment`: the old place of the body, returned so the caller can use it when the body is empty. */
export function convertFrontMatter(
  src: YamlSource,
  data: Mapping,
  folderSlug: string,
  sandbox: Sandbox,
  problems: Problem[],
): { fm: FrontMatter; assignment?: string } | undefined {
  reportKeys(src, [], data, RULES, 'assignment', problems);
  const type = field(src, data, ['type'], z.string(), problems) ?? 'challenge';
  if (type !== 'challenge' && type !== 'quiz') {
    problems.push(problemAt(src, ['type'], `challenge type "${type}" has no Labforge equivalent (challenge, quiz): challenge not converted`));
    return undefined;
  }
  const slug = challengeSlug(src, data, folderSlug, problems);
  let title = field(src, data, ['title'], text.pipe(z.string().min(1)), problems);
  if (!title) {
    title = titleOf(slug);
    problems.push(problemAt(src, [], `no title: "${title}" is used`, 'warning'));
  }
  const fm: FrontMatter = { slug, ...(type === 'quiz' ? { type } : {}), title };
  fm.teaser = field(src, data, ['teaser'], text, problems);
  fm.notes = notes(src, data.notes, problems);
  fm.tabs = convertTabs(src, data.tabs, sandbox, problems);
  const difficulty = field(src, data, ['difficulty'], z.string(), problems);
  if (difficulty === 'basic' || difficulty === 'intermediate' || difficulty === 'advanced') fm.difficulty = difficulty;
  else if (difficulty !== undefined)
    problems.push(problemAt(src, ['difficulty'], `"${difficulty}" is not a Labforge difficulty (basic, intermediate, advanced): dropped`, 'warning'));
  fm.timelimit = field(src, data, ['timelimit'], z.number().int().positive(), problems);
  if (!quiz(src, data, fm, type === 'quiz', problems)) return undefined;
  return { fm, assignment: field(src, data, ['assignment'], z.string(), problems) };
}

function challengeSlug(src: YamlSource, data: Mapping, folderSlug: string, problems: Problem[]): string {
  const given = field(src, data, ['slug'], text, problems);
  const slug = toSlug(given ?? folderSlug) || 'challenge';
  if (given === undefined) problems.push(problemAt(src, [], `no slug: "${slug}" is made from the folder name`, 'warning'));
  else if (slug !== given) problems.push(problemAt(src, ['slug'], `"${given}" is not a Labforge slug: "${slug}" is used`, 'warning'));
  return slug;
}

/** Text notes as they are; an image or a video becomes a markdown note showing or linking it. */
function notes(src: YamlSource, raw: unknown, problems: Problem[]): FrontMatter['notes'] {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    problems.push(problemAt(src, ['notes'], 'must be a list: not converted'));
    return undefined;
  }
  const out: NonNullable<FrontMatter['notes']> = [];
  raw.forEach((n: unknown, i) => {
    const at = ['notes', i];
    const note = isMapping(n) ? n : {};
    const url = typeof note.url === 'string' && /^https?:\/\//.test(note.url) ? note.url : undefined;
    if (note.type === 'text' && typeof note.contents === 'string') out.push({ type: 'text', contents: note.contents });
    else if ((note.type === 'image' || note.type === 'video') && url) {
      out.push({ type: 'text', contents: note.type === 'image' ? `![](${url})` : `[Watch the video](${url})` });
      problems.push(
        problemAt(src, at, `an ${note.type} note becomes a text note ${note.type === 'image' ? 'showing the image' : 'linking the video'}`, 'warning'),
      );
    } else problems.push(problemAt(src, at, `a note of type "${String(note.type)}" (or without its contents/url) has no Labforge equivalent: not converted`));
  });
  return out;
}

/** Quiz fields kept on a quiz (false: it cannot be graded), dropped elsewhere. */
function quiz(src: YamlSource, data: Mapping, fm: FrontMatter, isQuiz: boolean, problems: Problem[]): boolean {
  if (!isQuiz) {
    for (const k of ['answers', 'solution'] as const) if (data[k] !== undefined) problems.push(problemAt(src, [k], `only a quiz has ${k}: dropped`, 'warning'));
    return true;
  }
  fm.answers = field(src, data, ['answers'], z.array(text).min(1), problems);
  fm.solution = field(src, data, ['solution'], z.array(z.number().int().nonnegative()).min(1), problems);
  const bad = fm.solution?.find((i) => i >= (fm.answers?.length ?? 0));
  if (!fm.answers || !fm.solution || bad !== undefined) {
    const why = !fm.answers ? 'no answers' : !fm.solution ? 'no solution' : `solution ${bad} is not an index of answers (0..${fm.answers.length - 1})`;
    problems.push(problemAt(src, fm.answers && fm.solution ? ['solution'] : [], `quiz with ${why}: it could not be graded, challenge not converted`));
    return false;
  }
  return true;
}
