import { runtime } from '@/lib/runtime';
import { body, handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { readTarget, writeTarget } from '@/lib/sessions/files';
import { sessionCaller } from '@/lib/http/grader';
import { SaveBody } from '@/lib/http/api/requests';

export const dynamic = 'force-dynamic';
type P = RouteParams<{ id: string; tab: string }>;

/** GET …/files/:tab → {path, content, version} of the file an editor tab names. */
export async function GET(req: Request, { params }: P) {
  return handle(async () => {
    const { id, tab } = await pathIds(params);
    return json(await readTarget(await runtime().sessions.editorTarget(id, (await sessionCaller(req, id)).learnerId, tab)));
  });
}

/**
 * An editor file is at most 1 MiB (lib/sessions/files.ts); its JSON body is larger by the escaping
 * (a newline or quote takes two bytes), so the body may be twice that, plus room for the rest.
 */
const SAVE_BODY_LIMIT = 2 * 1024 * 1024 + 16 * 1024;

/** PUT …/files/:tab {content, version[, force]} → the saved state; 409 if the file changed underneath. */
export async function PUT(req: Request, { params }: P) {
  return handle(async () => {
    requireSameOrigin(req);
    const { id, tab } = await pathIds(params);
    const who = await sessionCaller(req, id);
    const input = await body(req, SaveBody, { limit: SAVE_BODY_LIMIT });
    const target = await runtime().sessions.editorTarget(id, who.learnerId, tab);
    const base = input.force ? (await readTarget(target)).version : input.version;
    void runtime().sessions.touch(id);
    return json(await writeTarget(target, input.content, base));
  });
}
