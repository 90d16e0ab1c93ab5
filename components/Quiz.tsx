'use client';
import type { PublicQuiz } from '@/lib/checks/quiz';

/**
 * Quiz choices; the solution never reaches the browser, the Check button grades. When the lab
 * caps the tries, the count left comes from the server (it counts them), and with none left the
 * choices are locked: another Check would only be refused.
 */
export function Quiz({ quiz, selected, onChange }: { quiz: PublicQuiz; selected: number[]; onChange: (s: number[]) => void }) {
  const toggle = (i: number) => onChange(quiz.multiple ? (selected.includes(i) ? selected.filter((x) => x !== i) : [...selected, i].sort()) : [i]);
  const left = quiz.attemptsLeft;
  return (
    <fieldset className="quiz" disabled={left === 0}>
      <legend>{quiz.multiple ? 'Select every true statement' : 'Select one answer'}</legend>
      {quiz.answers.map((a, i) => (
        <label key={i}>
          <input type={quiz.multiple ? 'checkbox' : 'radio'} name="quiz" checked={selected.includes(i)} onChange={() => toggle(i)} />
          {a}
        </label>
      ))}
      {left !== undefined && (
        <p className="quiz-attempts" aria-live="polite">
          {left === 0 ? `No attempts left (${quiz.attempts} allowed).` : `${left} of ${quiz.attempts} attempt${quiz.attempts === 1 ? '' : 's'} left.`}
        </p>
      )}
    </fieldset>
  );
}
