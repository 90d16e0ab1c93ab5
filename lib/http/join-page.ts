/**
 * `GET /join/<code>`: a learner opens the link a grader handed them (lib/auth/join-links.ts).
 * A valid code gives this browser the session's learner cookie and redirects to the session;
 * a used, expired or unknown one shows a page saying so and changes nothing (no cookie).
 */
import { JoinLinks } from '../auth/join-links';
import { learnerCookie } from '../auth/learner';
import { storageFault } from '../db/faults';
import { runtime } from '../runtime/index';

export async function joinResponse(req: Request, code: string): Promise<Response> {
  try {
    const joined = await new JoinLinks(runtime().db).redeem(code);
    if (!joined.ok) return page(joined.status, joined.status === 410 ? 'This link cannot be used again' : 'Unknown link', joined.reason);
    const secure = new URL(req.url).protocol === 'https:';
    // 303: the browser GETs the session page; a relative Location keeps it on the host the cookie was set for.
    return new Response(null, {
      status: 303,
      headers: { location: `/sessions/${joined.sessionId}`, 'set-cookie': learnerCookie(joined.learnerId, secure), 'cache-control': 'no-store' },
    });
  } catch (e) {
    if (!storageFault(e)) runtime().log.error({ err: (e as Error).message }, 'join link failed');
    return page(503, 'Try again in a moment', 'The link could not be checked just now. Reload this page in a moment.');
  }
}

/** A small page of its own (no scripts), so the answer reads well in a browser. */
function page(status: number, title: string, message: string): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} · Labforge</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}</style></head>
<body><h1>${title}</h1><p>${message}</p><p><a href="/">Labforge</a></p></body></html>`;
  return new Response(html, { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } });
}
