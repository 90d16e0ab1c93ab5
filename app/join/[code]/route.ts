import { joinResponse } from '@/lib/http/join-page';

export const dynamic = 'force-dynamic';

/** GET /join/:code → 303 to /sessions/:id with the session's learner cookie; a used or expired code 410, an unknown one 404. */
export async function GET(req: Request, { params }: { params: Promise<{ code: string }> }) {
  return joinResponse(req, (await params).code);
}

/** Next would answer HEAD with GET: a link checker's HEAD must not use the link up. */
export async function HEAD() {
  return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } });
}
