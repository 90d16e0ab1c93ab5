/**
 * Sessions a grader starts for a learner (`POST /api/v1/sessions {lab, learner}` with a token).
 * `learner` is the grader's own opaque id for the person; Labforge maps it to one of its learner
 * ids, the same one every time, so the per-learner caps count that person's sessions and a join
 * link (join-links.ts) puts the person's browser on all of them.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/client';

export const LearnerRefSchema = z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'a learner is named by 1 to 128 characters of letters, digits and . _ : @ -');

/**
 * The Labforge learner id for (token, learner): 32 characters, the shape of a learner cookie
 * (learner.ts). A learner id is a credential (it is the cookie), so it is an HMAC keyed by the
 * token's stored hash, not a plain hash of the token id and the learner, which anyone who knows
 * both could compute and present as a cookie.
 */
export function learnerIdFor(token: { id: string; hash: string }, learnerRef: string): string {
  return crypto.createHmac('sha256', token.hash).update(`learner\0${token.id}\0${learnerRef}`).digest('base64url').slice(0, 32);
}

/** Records which token started the session and for whom (the session layer knows only learner ids). */
export async function recordOnBehalf(db: Db, sessionId: string, tokenId: string, learnerRef: string): Promise<void> {
  await db.session.update({ where: { id: sessionId }, data: { tokenId, learnerRef } });
}
