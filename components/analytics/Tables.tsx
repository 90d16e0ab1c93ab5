/** The small tables under the analytics charts: the same numbers, readable without the chart. */
import type { DayCount, FailureGroup, FunnelRow, QuizDistribution, TimeRow } from '@/lib/analytics/types';
import { duration, percent, position } from './format';
import { TableHead } from '../TableHead';

export function FunnelTable({ rows, sessions }: { rows: FunnelRow[]; sessions: number }) {
  return (
    <table className="analytics-table">
      <TableHead columns={['#', 'Challenge', 'Reached', 'Completed', 'Skipped', 'Completed of {sessions} sessions']} />
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
      <TableHead columns={['#', 'Challenge', 'Completed', 'Median', '90th percentile']} />
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
      <TableHead columns={['#', 'Challenge', 'Message', 'Count']} />
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
      <TableHead columns={['Choice', 'Picked', 'Of answers']} />
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
      <TableHead columns={['Day (UTC)', 'Sessions started']} />
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
