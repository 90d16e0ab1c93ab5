/**
 * Whether a challenge can be both checked and proved: a Check that checks nothing lets
 * learners through, and a check without a solve script cannot be shown to pass by
 * `labforge test` (it would report the check as failing, as if it were broken). Warnings:
 * the lab still runs. Quizzes are exempt (their solution is in the front matter).
 */
import { problemAt, problemIn, type Problem } from './positions';
import type { ChallengeSource } from './sources';

export const NO_CHECK = 'no check-<host> script and no grade: the Check button will let learners through without checking anything';
export const NO_SOLVE = "no solve-<host> script: `labforge test` cannot prove the check can pass (add one that does the learner's work)";

export function checkCoverage(c: ChallengeSource): Problem[] {
  if (!c.src || !c.frontMatter || c.frontMatter.type === 'quiz') return [];
  const check = c.scripts.find((sc) => sc.kind === 'check');
  if (!check && !c.frontMatter.grade) return [problemAt(c.src, [], NO_CHECK, 'warning')];
  if (c.scripts.some((sc) => sc.kind === 'solve')) return [];
  // At the check script, or at grade: when the challenge is graded only: where the author looks.
  return [check ? problemIn(check.file, NO_SOLVE, 'warning') : problemAt(c.src, ['grade'], NO_SOLVE, 'warning')];
}
