/**
 * What graders do with sessions besides acting on one (lib/http/grader.ts): start one for a
 * learner, with a join link that puts the learner's browser on it; mint another link later; list
 * the sessions of the token's labs.
 */
import { JoinLinks } from '../auth/join-links';
import { learnerIdFor, recordOnBehalf } from '../auth/on-behalf';
import { sessionsInScope } from '../auth/token-scope';
import { runtime } from '../runtime/index';
import { LIVE_STATUSES, sessionView, type SessionStatus, type SessionView } from '../sessions/view';
import { graderSession, requireLab, type GraderToken } from './grader';
import { rateLimit } from './limits';
import { HttpError } from './route';
import { SessionsQuery } from './api/requests';

export interface JoinLink {
  /** `<public URL>/join/<code>`: works once, for 15 minutes. */
  joinUrl: string;
  joinExpiresAt: string;
}

/**
 * `POST /api/v1/sessions {lab, learner}` with a token: the session belongs to the Labforge learner
 * that `learner` maps to for this token (lib/auth/on-behalf.ts), so that learner's caps apply.
 */
export async function startForLearner(req: Request, token: GraderToken, input: { lab: string; challenge?: string; learner?: string }) {
  if (input.learner === undefined)
    throw new HttpError(400, 'learner: a grader token starts sessions for a learner: send {lab, learner}, learner being your own id for them');
  requireLab(token, input.lab);
  const learnerId = learnerIdFor(token, input.learner);
  await rateLimit(req, 'create', learnerId);
  const rt = runtime();
  const started = await rt.sessions.start(input.lab, learnerId, { challenge: input.challenge });
  await recordOnBehalf(rt.db, started.id, token.id, input.learner);
  return { ...started, learner: input.learner, ...(await joinLink(started.id)) };
}

async function joinLink(sessionId: string): Promise<JoinLink> {
  const rt = runtime();
  const { code, expiresAt } = await new JoinLinks(rt.db).mint(sessionId);
  return { joinUrl: `${rt.config.publicUrl}/join/${code}`, joinExpiresAt: expiresAt.toISOString() };
}

/**
 * `POST /api/v1/sessions/:id/join`: a new link for a live session this token started for a learner.
 * A session someone started in their own browser has no link: a token would otherwise hand out
 * that person's cookie, and with it their sessions of labs outside the token's scope.
 */
export async function newJoinLink(token: GraderToken, id: string): Promise<JoinLink> {
  const row = await graderSession(token, id);
  if (row.tokenId !== token.id)
    throw new HttpError(403, 'only sessions this token started for a learner (POST /api/v1/sessions {lab, learner}) have join links', { code: 'forbidden' });
  if (!LIVE_STATUSES.includes(row.status as SessionStatus)) throw new HttpError(409, `this session is ${row.status}: there is nothing to join`);
  return joinLink(id);
}

/** `GET /api/v1/sessions[?learner=&limit=]` with a token: its labs' sessions, newest first, each with the grader's `learner` id if it started it. */
export async function listForGrader(req: Request, token: GraderToken): Promise<Array<SessionView & { learner?: string }>> {
  const params = new URL(req.url).searchParams;
  const query = SessionsQuery.safeParse({ learner: params.get('learner') ?? undefined, limit: params.get('limit') ?? undefined });
  if (!query.success) {
    const issue = query.error.issues[0];
    throw new HttpError(400, `${issue.path.join('.')}: ${issue.message}`);
  }
  const { learner, limit } = query.data;
  const rt = runtime();
  const rows = await sessionsInScope(rt.db, token, { learnerId: learner && learnerIdFor(token, learner), limit });
  return rows.flatMap((row) => {
    const lab = rt.catalog.get(row.labSlug);
    // Another token's name for a learner is that grader's business, not this one's.
    const ref = row.tokenId === token.id ? row.learnerRef : null;
    return lab ? [{ ...sessionView(row, lab, []), ...(ref ? { learner: ref } : {}) }] : [];
  });
}
