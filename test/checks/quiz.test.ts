import { describe, expect, it } from 'vitest';
import { gradeQuiz, publicQuiz } from '../../lib/checks/quiz';

const single = { slug: 'q1', type: 'quiz' as const, answers: ['IGMP', 'ARP', 'ICMP'], solution: [0] };
const multi = { slug: 'q2', type: 'quiz' as const, answers: ['a', 'b', 'c', 'd', 'e'], solution: [1, 3, 4] };

const WRONG = 'Not quite: that is not the right answer. Read the question again and try once more.';

describe('gradeQuiz', () => {
  it('single choice: right, wrong, more than one', () => {
    expect(gradeQuiz(single, [0])).toEqual({ passed: true, graded: true, message: 'Correct!' });
    expect(gradeQuiz(single, [2])).toEqual({ passed: false, graded: true, message: WRONG });
    expect(gradeQuiz(single, [0, 1])).toEqual({ passed: false, graded: false, message: 'Pick only one answer' });
    expect(gradeQuiz(single, [0, 0]).passed).toBe(true);
  });

  it('multiple choice: all and only the solution; a wrong answer names no choice and no count', () => {
    expect(gradeQuiz(multi, [4, 1, 3]).passed).toBe(true);
    // Too many, too few, both: the learner only learns that it is wrong (no oracle to bisect with).
    for (const pick of [[1, 3, 4, 0], [0, 2, 1, 3, 4], [1, 3], [1], [0, 1], [0, 1, 3]]) {
      const v = gradeQuiz(multi, pick);
      expect(v).toEqual({ passed: false, graded: true, message: WRONG });
      expect(v.message).not.toMatch(/\d|choice|missing|right too/);
    }
  });

  it('says how many attempts are left, and when the last one is used', () => {
    expect(gradeQuiz(single, [2], { attemptsLeft: 2 }).message).toBe(`${WRONG} 2 attempts left.`);
    expect(gradeQuiz(single, [2], { attemptsLeft: 1 }).message).toBe(`${WRONG} 1 attempt left.`);
    expect(gradeQuiz(single, [2], { attemptsLeft: 0 }).message).toBe('Not quite: that is not the right answer, and that was your last attempt.');
    expect(gradeQuiz(single, [0], { attemptsLeft: 0 }).message).toBe('Correct!');
  });

  it('rejects empty and impossible selections with a clear message', () => {
    // Not graded: these do not use up an attempt.
    expect(gradeQuiz(single, [])).toEqual({ passed: false, graded: false, message: 'Pick an answer first' });
    expect(gradeQuiz(single, [3]).message).toBe('There is no choice 3: pick among the 3 answers shown');
    expect(gradeQuiz(single, [-1]).passed).toBe(false);
    expect(gradeQuiz(single, [0.5]).graded).toBe(false);
  });

  it('refuses to grade a challenge that is not a quiz', () => {
    expect(() => gradeQuiz({ slug: 'c', type: 'challenge' }, [0])).toThrow(/not a quiz/);
  });
});

describe('publicQuiz', () => {
  it('gives the choices and whether several are right, never the solution', () => {
    expect(publicQuiz(single)).toEqual({ answers: ['IGMP', 'ARP', 'ICMP'], multiple: false });
    expect(publicQuiz({ ...single, attempts: 3 }, 1)).toEqual({ answers: ['IGMP', 'ARP', 'ICMP'], multiple: false, attempts: 3, attemptsLeft: 2 });
    expect(publicQuiz({ ...single, attempts: 3 }, 5)?.attemptsLeft).toBe(0);
    const p = publicQuiz(multi)!;
    expect(p).toEqual({ answers: ['a', 'b', 'c', 'd', 'e'], multiple: true });
    expect(JSON.stringify(p)).not.toContain('solution');
    expect(publicQuiz({ slug: 'c', type: 'challenge' })).toBeUndefined();
  });
});
