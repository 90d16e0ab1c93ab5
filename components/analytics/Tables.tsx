/** The small tables under the analytics charts: the same numbers, readable without the chart. */
import type { DayCount, FailureGroup, FunnelRow, QuizDistribution, TimeRow } from '@/lib/analytics/types';
import { duration, percent, position } from './format';

export function FunnelTable({ rows, sessions }: { rows: FunnelRow[]; sessions: number }) {
  return (
    <table className="analytics-table">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Challenge</th>
          <th scope="col">Reached</th>
          <th scope="col">Completed</th>
          <th scope="col">Skipped</th>
          <th scope="col">Completed of {sessions} sessions</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.slug}>
            <td>{position(r.index)}</td>
            <th scope="row">{r.title}</th>
            <td>{r.reached}</td>
            <td>{r.completed}</td>
            <td>{r.skipped}</td>
            <td>{percent(r.completed, sessions)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function TimesTable({ rows }: { rows: TimeRow[] }) {
  return (
    <table className="analytics-table">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Challenge</th>
          <th scope="col">Completed</th>
          <th scope="col">Median</th>
          <th scope="col">90th percentile</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.slug}>
            <td>{position(r.index)}</td>
            <th scope="row">{r.title}</th>
            <td>{r.completed}</td>
            <td>{duration(r.medianSeconds)}</td>
            <td>{duration(r.p90Seconds)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function FailuresTable({ groups }: { groups: FailureGroup[] }) {
  return (
    <table className="analytics-table">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Challenge</th>
          <th scope="col">Message</th>
          <th scope="col">Count</th>
        </tr>
      </thead>
      <tbody>
        {groups.flatMap((g) =>
          g.messages.map((m, n) => (
            <tr key={`${g.slug}/${n}`}>
              <td>{position(g.index)}</td>
              <th scope="row">{n === 0 ? `${g.title} (${g.total} failed)` : ''}</th>
              <td className="analytics-message">{m.message}</td>
              <td>{m.count}</td>
            </tr>
          )),
        )}
      </tbody>
    </table>
  );
}

export function QuizTable({ quiz }: { quiz: QuizDistribution }) {
  return (
    <table className="analytics-table">
      <caption>
        {quiz.submissions} answer{quiz.submissions === 1 ? '' : 's'} submitted
      </caption>
      <thead>
        <tr>
          <th scope="col">Choice</th>
          <th scope="col">Picked</th>
          <th scope="col">Of answers</th>
        </tr>
      </thead>
      <tbody>
        {quiz.choices.map((c) => (
          <tr key={c.index} className={c.correct ? 'analytics-right' : undefined}>
            <th scope="row">
              {String.fromCharCode(65 + (c.index % 26))}. {c.text}
              {c.correct && <span className="analytics-badge">right answer</span>}
            </th>
            <td>{c.picks}</td>
            <td>{percent(c.picks, quiz.submissions)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The days with starts only (the chart shows every day), and the total. */
export function StartsTable({ days }: { days: DayCount[] }) {
  const busy = days.filter((d) => d.starts > 0);
  return (
    <table className="analytics-table">
      <thead>
        <tr>
          <th scope="col">Day (UTC)</th>
          <th scope="col">Sessions started</th>
        </tr>
      </thead>
      <tbody>
        {busy.map((d) => (
          <tr key={d.day}>
            <th scope="row">{d.day}</th>
            <td>{d.starts}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">Total, {days.length} days</th>
          <td>{days.reduce((s, d) => s + d.starts, 0)}</td>
        </tr>
      </tfoot>
    </table>
  );
}
