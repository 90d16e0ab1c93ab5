/**
 * A refused LTI request, and how it is answered: a small HTML page for a browser (launches are
 * browser navigations from the LMS), JSON `{error}` for anything that asks for JSON. Refusals are
 * 400 (malformed, unknown platform) or 401 (not authenticated); nothing a client sends is a 500.
 */
import { htmlPage } from './html';

export class LtiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 429 | 502 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'LtiError';
  }
}

const TITLES: Record<number, string> = { 401: 'This launch could not be verified', 502: 'The LMS could not be reached', 503: 'Try again in a moment' };

export function errorResponse(req: Request, e: LtiError): Response {
  const accept = req.headers.get('accept') ?? '';
  const headers = { 'cache-control': 'no-store' };
  if (accept.includes('application/json') && !accept.includes('text/html')) return Response.json({ error: e.message }, { status: e.status, headers });
  const title = TITLES[e.status] ?? 'This launch was refused';
  return htmlPage(title, `<p>${escapeHtml(e.message)}</p><p>Go back to your course and open the activity again.</p>`, { status: e.status });
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Whatever a handler threw, as a response: LtiErrors as they are, anything else logged and a 503 (never a stack). */
export function refusal(req: Request, e: unknown, log: { error(o: object, msg: string): void }): Response {
  if (e instanceof Error && e.name === 'LtiError') return errorResponse(req, e as LtiError);
  log.error({ module: 'lti', err: (e as Error)?.message }, 'LTI request failed');
  return errorResponse(req, new LtiError(503, 'Labforge could not complete this launch just now. Open the activity again in a moment.'));
}
