/**
 * One analytics section: a figure the browser tests find by `data-chart`, with its caption (title,
 * what it counts, the CSV link), then its chart and a small table, or `empty` in their place.
 */
import type { ReportName } from '@/lib/analytics/types';
import './analytics.css';

export function ChartFigure(props: { chart: ReportName; title: string; about: string; csvHref: string; empty?: string; children: React.ReactNode }) {
  const { chart, title, about, csvHref, empty, children } = props;
  const id = `chart-${chart}`;
  return (
    <figure className="analytics-figure" data-chart={chart} aria-labelledby={id}>
      <figcaption>
        <div>
          <h2 id={id}>{title}</h2>
          <p>{about}</p>
        </div>
        <a className="analytics-csv" href={csvHref} download>
          Download CSV
        </a>
      </figcaption>
      {empty ? <p className="analytics-empty">{empty}</p> : children}
    </figure>
  );
}
