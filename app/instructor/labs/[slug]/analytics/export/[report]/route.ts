import { instructorFor } from '@/lib/http/instructor';
import { REPORTS, analyticsCsv, csvFileName, labAnalytics, parseFilters, type ReportName } from '@/lib/analytics';
import { HttpError, handle, pathIds, quote, type RouteParams } from '@/lib/http/route';
import { runtime } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

/**
 * GET /instructor/labs/:slug/analytics/export/:report[?invite=&days=&since=&until=] (a signed-in
 * instructor) → one report of the analytics page as CSV: funnel, times, failures, quiz or starts,
 * with the page's filters (lib/analytics/filters.ts).
 */
export async function GET(req: Request, { params }: RouteParams<{ slug: string; report: string }>) {
  return handle(async () => {
    await instructorFor(req);
    const { slug, report } = await pathIds(params);
    if (!(REPORTS as readonly string[]).includes(report)) throw new HttpError(404, `no report ${quote(report, 32)}: one of ${REPORTS.join(', ')}`);
    const { db, catalog } = runtime();
    const lab = catalog.get(slug);
    if (!lab) throw new HttpError(404, 'no such lab');
    const parsed = parseFilters(new URL(req.url).searchParams);
    if (!parsed.ok) throw new HttpError(400, parsed.error);
    const data = await labAnalytics(db, lab, parsed.filters, { only: report as ReportName });
    if (!data) throw new HttpError(404, 'no such invite');
    return new Response(analyticsCsv(report as ReportName, data), {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${csvFileName(report as ReportName, data)}"`,
        'cache-control': 'no-store',
        ...(data.truncated ? { 'x-labforge-truncated': 'true' } : {}),
      },
    });
  });
}
