import Link from 'next/link';
import { notFound } from 'next/navigation';
import { instructorForPage } from '@/lib/http/instructor';
import { labAnalytics, parseFilters, readInvites, type AnalyticsFilters, type InviteOption, type LabAnalytics, type ReportName } from '@/lib/analytics';
import { DEFAULT_DAYS } from '@/lib/analytics/filters';
import { SlugSchema } from '@/lib/http/api/requests';
import { runtime } from '@/lib/runtime';
import { ChartFigure } from '@/components/analytics/ChartFigure';
import { FailuresChart, FunnelChart, QuizChart, StartsChart, TimesChart } from '@/components/analytics/Charts';
import { FailuresTable, FunnelTable, QuizTable, StartsTable, TimesTable } from '@/components/analytics/Tables';

export const dynamic = 'force-dynamic';

const NO_SESSIONS = 'No sessions yet in this range';
const DAY_CHOICES = [7, 14, 30, 90, 365];

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

/**
 * Analytics of one lab for instructors (lib/analytics): per challenge the completion funnel,
 * time to complete, the most frequent FAIL messages and quiz answers, and sessions started per
 * day, over a range of days and optionally one invite (workshop). Numbers are computed here, on
 * the server; the charts are drawn in the browser (components/analytics/Charts.tsx).
 */
export default async function AnalyticsPage({ params, searchParams }: Props) {
  const { slug } = await params;
  if (!SlugSchema.safeParse(slug).success) notFound();
  await instructorForPage('/instructor/labs/' + slug + '/analytics');
  const { db, catalog } = runtime();
  const lab = catalog.get(slug);
  if (!lab) notFound();
  const path = `/instructor/labs/${slug}/analytics`;
  const parsed = parseFilters(await searchParams);
  const invites = await readInvites(db, slug);
  const data = parsed.ok ? await labAnalytics(db, lab, parsed.filters) : null;
  if (parsed.ok && !data) notFound(); // an invite that does not exist

  return (
    <main className="analytics">
      <p className="eyebrow">
        <Link href="/instructor">Instructor</Link> · Analytics
      </p>
      <h1>{lab.track.title}</h1>
      {data && <Summary data={data} />}
      <Filters path={path} invites={invites} filters={parsed.ok ? parsed.filters : undefined} />
      {!parsed.ok && <p className="analytics-notice">These filters cannot be used: {parsed.error}.</p>}
      {data && parsed.ok && <Sections data={data} csv={(report) => `${path}/export/${report}${parsed.filters.search}`} />}
    </main>
  );
}

const utcDay = (iso: string, endExclusive = false) => new Date(new Date(iso).getTime() - (endExclusive ? 1 : 0)).toISOString().slice(0, 10);

function Summary({ data }: { data: LabAnalytics }) {
  return (
    <>
      <p className="analytics-summary">
        {data.sessions} session{data.sessions === 1 ? '' : 's'}
        {data.invite ? ` of the invite “${data.invite.name}”` : ''} started from {utcDay(data.from)} to {utcDay(data.to, true)} (UTC).
      </p>
      {data.truncated && (
        <p className="analytics-notice">More was recorded in this range than one page reads: these numbers cover the newest sessions. Narrow the range.</p>
      )}
    </>
  );
}

/** A plain GET form: the page's URL is the view, so it can be shared and reloaded. */
function Filters({ path, invites, filters }: { path: string; invites: InviteOption[]; filters?: AnalyticsFilters }) {
  const q = filters?.query ?? {};
  const days = q.days ?? DEFAULT_DAYS;
  const choices = DAY_CHOICES.includes(days) ? DAY_CHOICES : [...DAY_CHOICES, days].sort((a, b) => a - b);
  return (
    <form className="analytics-filters" method="get" action={path} aria-label="Filters">
      <label>
        Learners
        <select name="invite" defaultValue={q.invite ?? ''}>
          <option value="">Everyone</option>
          {invites.map((i) => (
            <option key={i.id} value={i.id}>
              {i.name || i.id}
            </option>
          ))}
        </select>
      </label>
      <label>
        Range
        <select name="days" defaultValue={String(days)}>
          {choices.map((d) => (
            <option key={d} value={d}>
              Last {d} days
            </option>
          ))}
        </select>
      </label>
      <label>
        From
        <input type="date" name="since" defaultValue={q.since ?? ''} />
      </label>
      <label>
        To
        <input type="date" name="until" defaultValue={q.until ?? ''} />
      </label>
      <button type="submit" className="primary">
        Show
      </button>
      <p className="hint">Days are UTC. From and To, when set, take the place of the last-days range.</p>
    </form>
  );
}

function Sections({ data, csv }: { data: LabAnalytics; csv: (report: ReportName) => string }) {
  const none = data.sessions === 0 ? NO_SESSIONS : undefined;
  const answered = data.quiz.filter((q) => q.submissions > 0);
  return (
    <>
      <ChartFigure
        chart="funnel"
        title="Completion funnel"
        about="Per challenge, in order: the sessions that reached it and those that completed it."
        csvHref={csv('funnel')}
        empty={none}
      >
        <FunnelChart rows={data.funnel} />
        <FunnelTable rows={data.funnel} sessions={data.sessions} />
      </ChartFigure>
      <ChartFigure
        chart="times"
        title="Time per challenge"
        about="From a challenge's start to its completion, over the sessions that completed it: median and 90th percentile."
        csvHref={csv('times')}
        empty={none ?? (data.times.some((t) => t.completed > 0) ? undefined : 'No challenge was completed in this range yet')}
      >
        <TimesChart rows={data.times} />
        <TimesTable rows={data.times} />
      </ChartFigure>
      <ChartFigure
        chart="failures"
        title="Most frequent FAIL messages"
        about="Failed Checks per challenge, by message (whitespace normalized): the most frequent first."
        csvHref={csv('failures')}
        empty={none ?? (data.failures.length ? undefined : 'No Check failed in this range')}
      >
        <FailuresChart groups={data.failures} />
        <FailuresTable groups={data.failures} />
      </ChartFigure>
      <ChartFigure
        chart="quiz"
        title="Quiz answers"
        about="How many times each choice was picked, over every answer submitted."
        csvHref={csv('quiz')}
        empty={none ?? (!data.quiz.length ? 'This lab has no quiz' : answered.length ? undefined : 'No quiz was answered in this range')}
      >
        {data.quiz.map((q) => (
          <section key={q.slug} aria-label={q.title}>
            <h3>{q.title}</h3>
            {q.submissions ? (
              <>
                <QuizChart quiz={q} />
                <QuizTable quiz={q} />
              </>
            ) : (
              <p className="analytics-empty">Not answered in this range</p>
            )}
          </section>
        ))}
      </ChartFigure>
      <ChartFigure chart="starts" title="Starts per day" about="Sessions started each day (UTC)." csvHref={csv('starts')} empty={none}>
        <StartsChart days={data.starts} />
        <StartsTable days={data.starts} />
      </ChartFigure>
    </>
  );
}
