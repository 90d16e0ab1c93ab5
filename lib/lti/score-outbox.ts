/**
 * Scores for LMSs, from the session Event log the way webhooks are (lib/webhooks/fanout.ts): a
 * cursor row of its own in WebhookCursor (one row per reader) moves in the transaction that
 * queues the scores, so each passed challenge and each completion of a session an LTI launch
 * opened becomes exactly one LtiScore, in the log's order. The score is built here, once: the
 * posted body is the same on every retry.
 */
import { z } from 'zod';
import type { Db } from '../db/client';
import { settledEventTop } from '../db/raw';

const CURSOR = 'lti-scores';
const TYPES = ['challenge.passed', 'session.completed'];
const CheckData = z.object({ score: z.object({ passed: z.number().int(), total: z.number().int() }) });

/** An AGS Score (AGS 2.0 §3.4), as posted to `<lineitem>/scores`. */
export interface AgsScore {
  userId: string;
  scoreGiven: number;
  scoreMaximum: number;
  activityProgress: 'InProgress' | 'Completed';
  gradingProgress: 'Pending' | 'FullyGraded';
  timestamp: string;
}

/** `<lineitem>/scores`, keeping the line item URL's query (Moodle's carries one). */
export function scoresUrl(lineItem: string): string {
  const url = new URL(lineItem);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/scores`;
  return url.toString();
}

export async function queueScores(db: Db, batch = 200): Promise<{ queued: number; more: boolean }> {
  const cursor = await db.webhookCursor.findUnique({ where: { name: CURSOR } });
  const from = cursor?.lastEventId ?? 0;
  const top = await settledEventTop(db);
  if (top <= from) return { queued: 0, more: false };
  const events = await db.event.findMany({
    where: { id: { gt: from, lte: top }, type: { in: TYPES }, session: { is: { lti: { isNot: null } } } },
    orderBy: { id: 'asc' },
    take: batch,
    include: { session: { select: { id: true, lti: true, challenges: { select: { status: true } } } } },
  });
  const more = events.length === batch;
  const upTo = more ? events[events.length - 1].id : top;
  const rows: { sessionId: string; platformId: string; eventId: number; url: string; body: string }[] = [];
  for (const e of events) {
    const link = e.session?.lti;
    if (!e.session || !link?.lineItemUrl) continue;
    const score = scoreOf(e.type, e.data, e.session.challenges);
    if (!score) continue;
    const body: AgsScore = {
      userId: link.sub,
      scoreGiven: score.passed,
      scoreMaximum: score.total,
      activityProgress: e.type === 'session.completed' ? 'Completed' : 'InProgress',
      gradingProgress: e.type === 'session.completed' ? 'FullyGraded' : 'Pending',
      timestamp: e.createdAt.toISOString(),
    };
    rows.push({ sessionId: e.session.id, platformId: link.platformId, eventId: e.id, url: scoresUrl(link.lineItemUrl), body: JSON.stringify(body) });
  }
  await db.$transaction([
    cursor
      ? db.webhookCursor.update({ where: { name: CURSOR, lastEventId: from }, data: { lastEventId: upTo } })
      : db.webhookCursor.create({ data: { name: CURSOR, lastEventId: upTo } }),
    db.ltiScore.createMany({ data: rows }),
  ]);
  return { queued: rows.length, more };
}

/** A check's event carries the score after it; a completed session's progress no longer changes, so now is its end. */
function scoreOf(type: string, data: string, challenges: { status: string }[]): { passed: number; total: number } | undefined {
  if (type === 'session.completed') return { passed: challenges.filter((c) => c.status === 'completed').length, total: challenges.length };
  try {
    const parsed = CheckData.safeParse(JSON.parse(data));
    return parsed.success && parsed.data.score.total > 0 ? parsed.data.score : undefined;
  } catch {
    return undefined;
  }
}
