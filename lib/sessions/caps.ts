/**
 * How many live sessions a learner may hold (deps.sessionCaps): of one lab, and in all. A start
 * past a cap is refused with a 409 that names the live session(s), `{session, sessions: [{id,
 * lab, status}]}`, so the client can resume or stop one.
 */
import type { SessionRow } from '../db/client';
import type { Lab } from '../labs/schema';
import { SessionError } from './errors';
import type { SessionRepository } from './repository';

/** Call under the learner's lock (`learner:<id>`), so two starts at once cannot both pass. */
export async function requireRoom(
  repo: SessionRepository,
  caps: { perLab: number; perLearner: number } | undefined,
  learnerId: string,
  lab: Lab,
): Promise<void> {
  if (!caps) return;
  const live = await repo.live(learnerId);
  const named = (rows: SessionRow[]) => {
    const sessions = rows.map((r) => ({ id: r.id, lab: r.labSlug, status: r.status }));
    return { session: sessions[0], sessions };
  };
  // Short: error messages are capped (lib/http/route.ts); `sessions` carries the whole list.
  const describe = (r: SessionRow) => `${r.labSlug} (session ${r.id}, ${r.status})`;
  const sameLab = live.filter((r) => r.labSlug === lab.track.slug);
  if (sameLab.length >= caps.perLab) {
    const first = sameLab[0];
    throw new SessionError(
      'conflict',
      sameLab.length === 1
        ? `You already have a live session of this lab: ${describe(first)}. Resume it at /sessions/${first.id}, or stop it before starting another.`
        : `You already have ${sameLab.length} live sessions of this lab (${sameLab.map(describe).join(', ')}): resume one, or stop one before starting another.`,
      named(sameLab),
    );
  }
  if (live.length >= caps.perLearner) {
    throw new SessionError(
      'conflict',
      `You already have ${live.length} live sessions, the most one learner may run at once: ${live.map(describe).join(', ')}. Stop one before starting another.`,
      named(live),
    );
  }
}
