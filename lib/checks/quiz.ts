/**
 * Quiz challenges: the learner picks among `answers`; right means all and only the `solution`
 * indexes. A wrong answer is only "wrong": saying which or how many choices are off would let a
 * learner find the solution by trial (flip one box, read the count). The solution never leaves
 * the server (publicQuiz is what the page gets). `attempts:` caps the tries; the session
 * service counts them in the database.
 */
import type { ChallengeFrontMatter } from '../labs/schema';

type QuizLike = Pick<ChallengeFrontMatter, 'type' | 'answers' | 'solution' | 'slug'> & { attempts?: number };

export interface QuizVerdict {
  passed: boolean;
  message: string;
  /** False when the selection was refused (nothing picked, no such choice): that is not a try. */
  graded: boolean;
}

export interface PublicQuiz {
  answers: string[];
  /** More than one answer is right: the page shows checkboxes instead of radio buttons. */
  multiple: boolean;
  /** The lab's cap on tries and what is left of it; absent when tries are unlimited. */
  attempts?: number;
  attemptsLeft?: number;
}

const WRONG = 'Not quite: that is not the right answer.';

/** `used`: tries already on record for this session (only needed when the quiz caps them). */
export function publicQuiz(challenge: QuizLike, used = 0): PublicQuiz | undefined {
  if (challenge.type !== 'quiz' || !challenge.answers) return undefined;
  const view: PublicQuiz = { answers: [...challenge.answers], multiple: new Set(challenge.solution ?? []).size > 1 };
  if (challenge.attempts) Object.assign(view, { attempts: challenge.attempts, attemptsLeft: Math.max(0, challenge.attempts - used) });
  return view;
}

/** `attemptsLeft`: what remains after this try, when the quiz caps tries; only changes the wording. */
export function gradeQuiz(challenge: QuizLike, selected: readonly number[], opts: { attemptsLeft?: number } = {}): QuizVerdict {
  const { answers, solution } = challenge;
  if (challenge.type !== 'quiz' || !answers?.length || !solution?.length)
    throw new Error(`challenge ${challenge.slug} is not a quiz (or has no answers/solution)`);

  const picked = [...new Set(selected)];
  const bad = picked.filter((i) => !Number.isInteger(i) || i < 0 || i >= answers.length);
  if (bad.length) return refused(`There is no choice ${bad[0]}: pick among the ${answers.length} answers shown`);
  if (!picked.length) return refused('Pick an answer first');

  const right = new Set(solution);
  // The page already says whether one or several are right (radio or checkboxes): no secret here.
  if (right.size === 1 && picked.length > 1) return refused('Pick only one answer');

  if (picked.length === right.size && picked.every((i) => right.has(i))) return { passed: true, graded: true, message: 'Correct!' };
  const left = opts.attemptsLeft;
  if (left === 0) return { passed: false, graded: true, message: 'Not quite: that is not the right answer, and that was your last attempt.' };
  const more = left === undefined ? '' : ` ${left} attempt${left === 1 ? '' : 's'} left.`;
  return { passed: false, graded: true, message: `${WRONG} Read the question again and try once more.${more}` };
}

function refused(message: string): QuizVerdict {
  return { passed: false, graded: false, message };
}
