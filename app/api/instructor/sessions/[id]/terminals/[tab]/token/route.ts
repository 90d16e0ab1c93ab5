import { runtime } from '@/lib/runtime';
import { handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { instructorFor, ownerOf } from '@/lib/http/instructor';
import type { TerminalToken } from '@/lib/http/api/responses';

export const dynamic = 'force-dynamic';

/**
 * POST /api/instructor/sessions/:id/terminals/:tab/token → a token to watch the learner's terminal:
 * role `viewer`, so the gateway never lets it type or resize (lib/terminals/node/peers.ts).
 */
export async function POST(req: Request, { params }: RouteParams<{ id: string; tab: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const me = await instructorFor(req);
    const { id, tab } = await pathIds(params);
    const rt = runtime();
    const learnerId = await ownerOf(id);
    await rt.sessions.terminalTarget(id, learnerId, tab); // the tab exists and the session is live
    const token = await rt.tokens.issue({ sessionId: id, tab, learnerId, role: 'viewer', client: 'browser' });
    rt.log.info({ sessionId: id, tab, instructor: me.email }, 'instructor watching a terminal');
    return json({ token, path: '/ws/terminal' } satisfies TerminalToken);
  });
}
