/**
 * Quiz challenges: the learner picks among `answers`; right means all and only the `solution`
 * indexes. Messages say how many choices are off, never which, and the solution never leaves
 * the server (publicQuiz is what the page gets).
 */
import type { ChallengeFrontMatter } from '../labs/schema';

type QuizLike = Pick<ChallengeFrontMatter, 'type' | 'answers' | 'solution' | 'slug'>;

export interface QuizVerdict {
  passed: boolean;
  message: string;
}

export interface PublicQuiz {
  answers: string[];
  /** More than one answer is right: the page shows checkboxes instead of radio buttons. */
  multiple: boolean;
}

export function publicQuiz(challenge: QuizLike): PublicQuiz | undefined {
  if (challenge.type !== 'quiz' || !challenge.answers) return undefined;
  return { answers: [...challenge.answers], multiple: new Set(challenge.solution ?? []).size > 1 };
}

export function gradeQuiz(challenge: QuizLike, selected: readonly number[]): QuizVerdict {
  const { answers, solution } = challenge;
  if (challenge.type !== 'quiz' || !answers?.length || !solution?.length)
    throw new Error(`challenge ${challenge.slug} is not a quiz (or has no answers/solution)`);

  const picked = [...new Set(selected)];
  const bad = picked.filter((i) => !Number.isInteger(i) || i < 0 || i >= answers.length);
  if (bad.length) return no(`There is no choice ${bad[0]}: pick among the ${answers.length} answers shown`);
  if (!picked.length) return no('Pick an answer first');

  const right = new Set(solution);
  const multiple = right.size > 1;
  if (!multiple && picked.length > 1) return no('Pick only one answer');

  const wrong = picked.filter((i) => !right.has(i)).length;
  const missing = [...right].filter((i) => !picked.includes(i)).length;
  if (!wrong && !missing) return { passed: true, message: 'Correct!' };
  if (!multiple) return no('Not quite: that answer is wrong. Try again.');
  if (wrong && missing) return no(`Not quite: ${choices(wrong)} wrong, and ${count(missing, 'right answer')} missing`);
  if (wrong) return no(`Not quite: ${choices(wrong)} wrong`);
  return no(`Not quite: your choices are right, but ${count(missing, 'more answer')} right too`);
}

function no(message: string): QuizVerdict {
  return { passed: false, message };
}

function choices(n: number): string {
  return n === 1 ? '1 of your choices is' : `${n} of your choices are`;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? ' is' : 's are'}`;
}
