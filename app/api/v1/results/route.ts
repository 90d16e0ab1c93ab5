import { runtime } from '@/lib/runtime';
import { HttpError, handle, json, quote } from '@/lib/http/route';
import { requireGrader, requireLab } from '@/lib/http/grader';
import { ResultsQuery } from '@/lib/http/api/requests';
import { readResults } from '@/lib/results/report';
import { resultsCsv } from '@/lib/results/csv';

export const dynamic = 'force-dynamic';

/**
 * GET /api/v1/results[?lab=&learner=&since=&limit=&format=csv] (grader token) → per session of the
 * token's labs, oldest first: learner, lab, status, score and per challenge status, attempts, first
 * pass, time to pass and the last FAIL message (lib/results/report.ts). `Accept: text/csv` or
 * `format=csv`: the same as CSV, one row per session and challenge.
 */
export async function GET(req: Request) {
  return handle(async () => {
    const token = await requireGrader(req);
    const params = new URL(req.url).searchParams;
    const parsed = ResultsQuery.safeParse(Object.fromEntries([...params].slice(0, 10)));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where =
        issue.code === 'unrecognized_keys' ? `unknown parameter ${quote(issue.keys[0], 32)}` : `${issue.path.join('.') || 'query'} ${issue.message}`;
      throw new HttpError(400, where);
    }
    const { lab, learner, since, limit, format } = parsed.data;
    if (lab) requireLab(token, lab);
    const labs = lab ? [lab] : token.labs;
    const results = await readResults(runtime().db, { labs, learner, since: since ? new Date(since) : undefined, limit, tokenId: token.id });
    const csv = format === 'csv' || (format === undefined && (req.headers.get('accept') ?? '').includes('text/csv'));
    if (!csv) return json(results);
    return new Response(resultsCsv(results), {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="labforge-results${lab ? `-${lab}` : ''}.csv"`,
        'cache-control': 'no-store',
        ...(results.truncated ? { 'x-labforge-truncated': 'true' } : {}),
      },
    });
  });
}
