import { runtime } from '@/lib/runtime';
import { handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { trafficCaptures } from '@/lib/traffic/capture';
import { sessionCaller } from '@/lib/http/grader';

export const dynamic = 'force-dynamic';
type P = RouteParams<{ id: string }>;

/**
 * GET …/traffic → {groups: [{group, senders, receivers, series}], capturing, since, …}:
 * who sent to and who joined each multicast group of the session's network.
 * Owner-only, and only once the learner has reached a challenge with a Traffic tab.
 * A GET only reads: with no capture running it answers an empty view with
 * `capturing: false` (POST starts one). Polling does not count as learner
 * activity (no touch): an open tab must not keep an idle session alive.
 */
export async function GET(req: Request, { params }: P) {
  return handle(async () => {
    const { id } = await pathIds(params);
    const target = await runtime().sessions.trafficTarget(id, (await sessionCaller(req, id)).learnerId);
    return json(await trafficCaptures().peek(target));
  });
}

/** POST …/traffic → the same view, after starting the capture (a sidecar container) if none runs. */
export async function POST(req: Request, { params }: P) {
  return handle(async () => {
    requireSameOrigin(req);
    const { id } = await pathIds(params);
    const target = await runtime().sessions.trafficTarget(id, (await sessionCaller(req, id)).learnerId);
    return json(await trafficCaptures().view(target));
  });
}
