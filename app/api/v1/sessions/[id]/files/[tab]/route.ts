import { z } from 'zod';
import { runtime } from '@/lib/runtime';
import { body, caller, handle, json, requireSameOrigin, type RouteParams } from '@/lib/api/http';
import { readTarget, writeTarget } from '@/lib/sessions/files';

export const dynamic = 'force-dynamic';
type P = RouteParams<{ id: string; tab: string }>;

/** GET …/files/:tab → {path, content, version} of the file an editor tab names. */
export async function GET(req: Request, { params }: P) {
  return handle(async () => {
    const { id, tab } = await params;
    return json(await readTarget(await runtime().sessions.editorTarget(id, caller(req).learnerId, tab)));
  });
}

const SaveBody = z.object({ content: z.string().max(1024 * 1024), version: z.string(), force: z.boolean().optional() }).strict();

/** PUT …/files/:tab {content, version[, force]} → the saved state; 409 if the file changed underneath. */
export async function PUT(req: Request, { params }: P) {
  return handle(async () => {
    requireSameOrigin(req);
    const { id, tab } = await params;
    const input = await body(req, SaveBody);
    const target = await runtime().sessions.editorTarget(id, caller(req).learnerId, tab);
    const base = input.force ? (await readTarget(target)).version : input.version;
    void runtime().sessions.touch(id);
    return json(await writeTarget(target, input.content, base));
  });
}
