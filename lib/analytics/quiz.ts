/**
 * Quiz answers: how many times each choice was picked. Every graded quiz try is a CheckRun of
 * kind `quiz` whose output is `[{"selected": [indexes]}]` (lib/sessions/runbook.ts `check`,
 * stored by repository.ts `recordCheck`); a try the quiz refused (nothing picked, no such choice,
 * no attempts left) is not a try and is not recorded. A choice picked twice in one try counts
 * once; an index the quiz no longer has (the lab was edited) is not counted.
 */
import type { ChallengeRef, QuizDistribution } from './types';

export interface QuizRef extends ChallengeRef {
  answers: readonly string[];
  solution: readonly number[];
}

export interface QuizRun {
  challenge: string;
  /** The stored CheckRun.output (JSON text). */
  output: string;
}

/** The choices a quiz try picked, from its stored output; null when the output holds none (not a quiz try's). */
export function selectedOf(output: string): number[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed)) return null;
  for (const entry of parsed) {
    const selected = (entry as { selected?: unknown } | null)?.selected;
    if (Array.isArray(selected) && selected.every((i) => Number.isInteger(i))) return [...new Set(selected as number[])];
  }
  return null;
}

/** One entry per quiz of the lab, in its order, with a count for every choice (0 when never picked). */
export function quizDistribution(quizzes: readonly QuizRef[], runs: readonly QuizRun[]): QuizDistribution[] {
  const out = quizzes.map((q): QuizDistribution => ({
    index: q.index,
    slug: q.slug,
    title: q.title,
    submissions: 0,
    choices: q.answers.map((text, index) => ({ index, text, correct: q.solution.includes(index), picks: 0 })),
  }));
  const bySlug = new Map(out.map((q) => [q.slug, q]));
  for (const run of runs) {
    const quiz = bySlug.get(run.challenge);
    const selected = quiz && selectedOf(run.output);
    if (!quiz || !selected) continue;
    quiz.submissions += 1;
    for (const i of selected) if (quiz.choices[i]) quiz.choices[i].picks += 1;
  }
  return out;
}
