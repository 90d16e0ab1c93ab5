/** Quiz answers: the choices of each graded try (CheckRun.output), counted per choice. */
import { describe, expect, it } from 'vitest';
import { quizDistribution, selectedOf, type QuizRef } from '../../lib/analytics/quiz';

const QUIZ: QuizRef = { index: 1, slug: 'pick', title: 'Pick one', answers: ['red', 'green', 'blue'], solution: [1] };
const MULTI: QuizRef = { index: 2, slug: 'many', title: 'Pick some', answers: ['a', 'b', 'c', 'd'], solution: [0, 3] };
const run = (challenge: string, selected: unknown) => ({ challenge, output: JSON.stringify([{ selected }]) });

describe('selectedOf', () => {
  it('reads the choices a quiz try stored, once each', () => {
    expect(selectedOf('[{"selected":[2]}]')).toEqual([2]);
    expect(selectedOf('[{"selected":[0,3,0]}]')).toEqual([0, 3]);
  });
  it('finds none in what is not a quiz try: malformed JSON, a dropped output, script output', () => {
    expect(selectedOf('not json')).toBeNull();
    expect(selectedOf('{"selected":[1]}')).toBeNull();
    expect(selectedOf('[{"dropped":"output removed"}]')).toBeNull();
    expect(selectedOf('[{"host":"workstation","exitCode":0}]')).toBeNull();
    expect(selectedOf('[{"selected":["1"]}]')).toBeNull();
    expect(selectedOf('[null]')).toBeNull();
  });
});

describe('quizDistribution', () => {
  it('counts each choice over every try, marks the right ones, and counts the tries', () => {
    const [pick, many] = quizDistribution(
      [QUIZ, MULTI],
      [run('pick', [0]), run('pick', [1]), run('pick', [1]), run('pick', [2]), run('many', [0, 3]), run('many', [0, 1])],
    );
    expect(pick).toEqual({
      index: 1,
      slug: 'pick',
      title: 'Pick one',
      submissions: 4,
      choices: [
        { index: 0, text: 'red', correct: false, picks: 1 },
        { index: 1, text: 'green', correct: true, picks: 2 },
        { index: 2, text: 'blue', correct: false, picks: 1 },
      ],
    });
    expect(many.submissions).toBe(2);
    expect(many.choices.map((c) => [c.picks, c.correct])).toEqual([
      [2, true],
      [1, false],
      [0, false],
      [1, true],
    ]);
  });

  it('ignores runs of other challenges, outputs without choices, duplicate picks and choices the quiz no longer has', () => {
    const [pick] = quizDistribution([QUIZ], [run('other', [0]), { challenge: 'pick', output: '[{"dropped":"x"}]' }, run('pick', [2, 2]), run('pick', [1, 7])]);
    expect(pick.submissions).toBe(2);
    expect(pick.choices.map((c) => c.picks)).toEqual([0, 1, 1]);
  });

  it('gives every quiz with zero counts when nobody answered', () => {
    expect(quizDistribution([QUIZ], [])[0]).toMatchObject({ submissions: 0, choices: [{ picks: 0 }, { picks: 0 }, { picks: 0 }] });
    expect(quizDistribution([], [run('pick', [1])])).toEqual([]);
  });
});
