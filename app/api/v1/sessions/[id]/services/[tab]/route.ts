import { runtime } from '@/lib/runtime';
import { handle, json, pathIds, type RouteParams } from '@/lib/http/route';
import { serviceUrl } from '@/lib/http/service-proxy';
import { sessionCaller } from '@/lib/http/grader';
import type { ServiceUrl } from '@/lib/http/api/responses';

export const dynamic = 'force-dynamic';

/**
 * GET …/services/:tab → {url}: where the service tab's iframe points, `/svc/<id>/<tab>/<key>/`.
 * Owner only, once the learner has reached the tab. The key is the credential of the service's
 * sandboxed requests (lib/http/service-proxy.ts); it stays the same until the server restarts.
 */
export async function GET(req: Request, { params }: RouteParams<{ id: string; tab: string }>) {
  return handle(async () => {
    const { id, tab } = await pathIds(params);
    const rt = runtime();
    await rt.sessions.serviceTarget(id, (await sessionCaller(req, id)).learnerId, tab); // proves ownership, that the tab is reached and the host is up
    return json({ url: serviceUrl(id, tab, rt.tokens.serviceKey(id, tab)) } satisfies ServiceUrl);
  });
}
