/**
 * Messages an instructor sends to a learner's session (the dashboard's "Message"): stored as
 * events of the session, shown on the learner's page, newest last. Plain text, bounded; the page
 * renders it as text, never as markup.
 */
import { z } from 'zod';
import type { Db } from '../db/client';

export const MESSAGE_EVENT = 'instructor.message';
/** How many of the latest messages the session view carries. */
const SHOWN = 5;

export const MessageTextSchema = z.string().trim().min(1, 'the message is empty').max(500, 'a message is at most 500 characters');

export type LearnerMessage = {
  id: number;
  text: string;
  from: string;
  at: string;
};

const StoredSchema = z.object({ text: z.string(), from: z.string() });

export async function postMessage(db: Db, sessionId: string, text: string, from: string): Promise<LearnerMessage> {
  const row = await db.event.create({ data: { sessionId, type: MESSAGE_EVENT, data: JSON.stringify({ text, from }) } });
  return { id: row.id, text, from, at: row.createdAt.toISOString() };
}

export async function recentMessages(db: Db, sessionId: string): Promise<LearnerMessage[]> {
  const rows = await db.event.findMany({ where: { sessionId, type: MESSAGE_EVENT }, orderBy: { id: 'desc' }, take: SHOWN });
  return rows.reverse().flatMap((r) => {
    const data = StoredSchema.safeParse(JSON.parse(r.data));
    return data.success ? [{ id: r.id, ...data.data, at: r.createdAt.toISOString() }] : [];
  });
}
