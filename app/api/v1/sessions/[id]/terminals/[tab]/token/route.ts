import { runtime } from '@/lib/runtime';
import { handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { rateLimit } from '@/lib/http/limits';
import { sessionCaller } from '@/lib/http/grader';
import type { TerminalToken } from '@/lib/http/api/responses';

export const dynamic = 'force-dynamic';

/** POST …/terminals/:tab/token → {token}: single use, short-lived, bound to this session and tab. */
export async function POST(req: Request, { params }: RouteParams<{ id: string; tab: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const { id, tab } = await pathIds(params);
    const who = await sessionCaller(req, id, { terminals: true });
    await rateLimit(req, 'token', who.learnerId);
    const rt = runtime();
    await rt.sessions.terminalTarget(id, who.learnerId, tab); // proves ownership and that the tab exists
    // A grader's program sends no Origin on the WebSocket; the token says it may (gateway.ts).
    const token = await rt.tokens.issue({ sessionId: id, tab, learnerId: who.learnerId, role: 'owner', client: who.grader ? 'program' : 'browser' });
    return json({ token, path: '/ws/terminal' } satisfies TerminalToken);
  });
}
