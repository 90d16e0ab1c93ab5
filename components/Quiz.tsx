'use client';

/** Quiz choices; the solution never reaches the browser, the Check button grades. */
export function Quiz({
  quiz,
  selected,
  onChange,
}: {
  quiz: { answers: string[]; multiple: boolean };
  selected: number[];
  onChange: (s: number[]) => void;
}) {
  const toggle = (i: number) =>
    onChange(quiz.multiple ? (selected.includes(i) ? selected.filter((x) => x !== i) : [...selected, i].sort()) : [i]);
  return (
    <fieldset className="quiz">
      <legend>{quiz.multiple ? 'Select every true statement' : 'Select one answer'}</legend>
      {quiz.answers.map((a, i) => (
        <label key={i}>
          <input type={quiz.multiple ? 'checkbox' : 'radio'} name="quiz" checked={selected.includes(i)} onChange={() => toggle(i)} />
          {a}
        </label>
      ))}
    </fieldset>
  );
}
