import { z } from 'zod';
import { runtime } from '@/lib/runtime';
import { body, handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { instructorFor, ownerOf } from '@/lib/http/instructor';
import { MessageTextSchema } from '@/lib/sessions/messages';

export const dynamic = 'force-dynamic';

const MessageBody = z.object({ text: MessageTextSchema }).strict();

/** POST /api/instructor/sessions/:id/message {text} → shown on the learner's page within seconds. */
export async function POST(req: Request, { params }: RouteParams<{ id: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const me = await instructorFor(req);
    const { id } = await pathIds(params);
    const { text } = await body(req, MessageBody);
    return json(await runtime().sessions.message(id, await ownerOf(id), text, me.name || me.email), { status: 201 });
  });
}
