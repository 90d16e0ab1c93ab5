/**
 * A webhook's JSON body, built once per event and stored on the delivery exactly as it is signed
 * and sent (retries resend the same bytes). Only what a grader needs: no session variables, no
 * check output, nothing of the environment. The fields are documented in docs/graders.md.
 */
import { z } from 'zod';
import { statusAt, type WebhookEvent } from './events';

export interface WebhookBody {
  /** The event's id: the same in every retry and for every subscription, so receivers can drop duplicates. */
  id: string;
  type: WebhookEvent;
  createdAt: string;
  lab: string;
  session: { id: string; learner: string | null; status: string };
  challenge?: { slug: string; index: number; attempts?: number };
  score?: { passed: number; total: number };
  message?: string;
}

/** An Event row with what the body needs of its session. */
export interface EventWithSession {
  id: number;
  data: string;
  createdAt: Date;
  session: { id: string; labSlug: string; learnerRef: string | null; challenges: { status: string }[] };
}

/** What repository.ts recordCheck stores on a challenge.passed / challenge.failed event. */
const CheckEventData = z.object({
  challenge: z.string(),
  index: z.number().int(),
  attempts: z.number().int(),
  score: z.object({ passed: z.number().int(), total: z.number().int() }),
  message: z.string().optional(),
});

/** A check's message is written for the learner; a grader gets its start, not a page of it. */
const MAX_MESSAGE = 1000;

export function buildBody(type: WebhookEvent, event: EventWithSession): WebhookBody {
  const { session } = event;
  const body: WebhookBody = {
    id: String(event.id),
    type,
    createdAt: event.createdAt.toISOString(),
    lab: session.labSlug,
    session: { id: session.id, learner: session.learnerRef, status: statusAt(type) },
  };
  if (type === 'challenge.passed' || type === 'challenge.failed') {
    const data = CheckEventData.safeParse(safeJson(event.data));
    if (data.success) {
      const { challenge, index, attempts, score, message } = data.data;
      body.challenge = { slug: challenge, index, attempts };
      body.score = score;
      if (type === 'challenge.failed' && message !== undefined) body.message = message.slice(0, MAX_MESSAGE);
    }
  } else if (type !== 'session.started') {
    // An ended session's progress no longer changes, so reading it now gives the score at its end.
    body.score = { passed: session.challenges.filter((c) => c.status === 'completed').length, total: session.challenges.length };
  }
  return body;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
