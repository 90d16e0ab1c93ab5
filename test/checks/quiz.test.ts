import { describe, expect, it } from 'vitest';
import { gradeQuiz, publicQuiz } from '../../lib/checks/quiz';

const single = { slug: 'q1', type: 'quiz' as const, answers: ['IGMP', 'ARP', 'ICMP'], solution: [0] };
const multi = { slug: 'q2', type: 'quiz' as const, answers: ['a', 'b', 'c', 'd', 'e'], solution: [1, 3, 4] };

describe('gradeQuiz', () => {
  it('single choice: right, wrong, more than one', () => {
    expect(gradeQuiz(single, [0])).toEqual({ passed: true, message: 'Correct!' });
    expect(gradeQuiz(single, [2])).toEqual({ passed: false, message: 'Not quite: that answer is wrong. Try again.' });
    expect(gradeQuiz(single, [0, 1])).toEqual({ passed: false, message: 'Pick only one answer' });
    expect(gradeQuiz(single, [0, 0]).passed).toBe(true);
  });

  it('multiple choice: all and only the solution, counts without saying which', () => {
    expect(gradeQuiz(multi, [4, 1, 3]).passed).toBe(true);
    expect(gradeQuiz(multi, [1, 3, 4, 0])).toEqual({ passed: false, message: 'Not quite: 1 of your choices is wrong' });
    expect(gradeQuiz(multi, [0, 2, 1, 3, 4]).message).toBe('Not quite: 2 of your choices are wrong');
    expect(gradeQuiz(multi, [1, 3]).message).toBe('Not quite: your choices are right, but 1 more answer is right too');
    expect(gradeQuiz(multi, [1]).message).toBe('Not quite: your choices are right, but 2 more answers are right too');
    expect(gradeQuiz(multi, [0, 1]).message).toBe('Not quite: 1 of your choices is wrong, and 2 right answers are missing');
    expect(gradeQuiz(multi, [0, 1, 3]).message).toBe('Not quite: 1 of your choices is wrong, and 1 right answer is missing');
  });

  it('rejects empty and impossible selections with a clear message', () => {
    expect(gradeQuiz(single, [])).toEqual({ passed: false, message: 'Pick an answer first' });
    expect(gradeQuiz(single, [3]).message).toBe('There is no choice 3: pick among the 3 answers shown');
    expect(gradeQuiz(single, [-1]).passed).toBe(false);
    expect(gradeQuiz(single, [0.5]).passed).toBe(false);
  });

  it('refuses to grade a challenge that is not a quiz', () => {
    expect(() => gradeQuiz({ slug: 'c', type: 'challenge' }, [0])).toThrow(/not a quiz/);
  });
});

describe('publicQuiz', () => {
  it('gives the choices and whether several are right, never the solution', () => {
    expect(publicQuiz(single)).toEqual({ answers: ['IGMP', 'ARP', 'ICMP'], multiple: false });
    const p = publicQuiz(multi)!;
    expect(p).toEqual({ answers: ['a', 'b', 'c', 'd', 'e'], multiple: true });
    expect(JSON.stringify(p)).not.toContain('solution');
    expect(publicQuiz({ slug: 'c', type: 'challenge' })).toBeUndefined();
  });
});
