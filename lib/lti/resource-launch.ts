/**
 * A valid LtiResourceLinkRequest: the learner is (platform, sub); the lab is the link's custom
 * parameter `lab` (what deep linking sets) or the lab this link opened before. The learner's live
 * session of that lab is resumed, or one is started; the AGS line item is stored with it for
 * score passback (score-outbox.ts); the browser gets the learner cookie and the session page.
 */
import { learnerCookie } from '../auth/learner';
import { isSessionError } from '../sessions/errors';
import { AGS_SCORE_SCOPE, CLAIM, customLab, ResourceLinkClaims } from './claims';
import type { LtiDeps } from './deps';
import { LtiError } from './errors';
import { claimError, type IdToken } from './id-token';
import { ltiLearnerId } from './learner';
import type { Platform } from './platforms';

const LIVE = ['provisioning', 'active'];

export async function resourceLaunch(req: Request, token: IdToken, platform: Platform, deps: LtiDeps): Promise<Response> {
  const parsed = ResourceLinkClaims.safeParse(token);
  if (!parsed.success) throw claimError(parsed.error);
  const claims = parsed.data;
  const linkId = claims[CLAIM.resourceLink].id;
  const lab = await labOf(deps, platform.id, linkId, customLab(claims));
  const learnerId = ltiLearnerId(platform, claims.sub);
  const sessionId = await startOrResume(deps, lab, learnerId);
  const ags = claims[CLAIM.ags];
  const scopes = ags?.scope ?? [];
  const link = {
    platformId: platform.id,
    sub: claims.sub,
    resourceLinkId: linkId,
    lineItemUrl: ags?.lineitem && scopes.includes(AGS_SCORE_SCOPE) ? ags.lineitem : null,
    scopes: JSON.stringify(scopes),
  };
  await deps.db.ltiSession.upsert({ where: { sessionId }, create: { sessionId, ...link }, update: link });
  deps.log.info({ module: 'lti', platform: platform.name, session: sessionId, lab }, 'LTI launch');
  const secure = new URL(req.url).protocol === 'https:' || deps.config.publicUrl.startsWith('https:');
  const headers = new Headers({ location: `/sessions/${sessionId}`, 'cache-control': 'no-store' });
  headers.append('set-cookie', learnerCookie(learnerId, secure));
  return new Response(null, { status: 303, headers });
}

/** The link's lab: named by the launch (and remembered for the link), or remembered from an earlier launch. */
async function labOf(deps: LtiDeps, platformId: string, resourceLinkId: string, named: string | undefined): Promise<string> {
  const key = { platformId_resourceLinkId: { platformId, resourceLinkId } };
  if (named) {
    if (!deps.catalog.get(named)) throw new LtiError(404, `the lab "${named}" this activity names is not installed on this Labforge`);
    await deps.db.ltiResourceLink.upsert({ where: key, create: { platformId, resourceLinkId, labSlug: named }, update: { labSlug: named } });
    return named;
  }
  const stored = await deps.db.ltiResourceLink.findUnique({ where: key });
  if (!stored) throw new LtiError(400, 'this activity names no lab: add it with deep linking, or set the custom parameter lab=<lab slug>');
  if (!deps.catalog.get(stored.labSlug)) throw new LtiError(404, `the lab "${stored.labSlug}" of this activity is no longer installed`);
  return stored.labSlug;
}

/** The learner's live session of the lab, or a new one; two launches at once end on the same session. */
async function startOrResume(deps: LtiDeps, lab: string, learnerId: string): Promise<string> {
  const live = () => deps.db.session.findFirst({ where: { learnerId, labSlug: lab, status: { in: LIVE } }, orderBy: { createdAt: 'desc' } });
  const existing = await live();
  if (existing) return existing.id;
  try {
    return (await deps.sessions.start(lab, learnerId)).id;
  } catch (e) {
    if (!isSessionError(e)) throw e;
    const raced = e.code === 'conflict' ? await live() : null;
    if (raced) return raced.id;
    throw new LtiError(e.code === 'conflict' ? 409 : e.code === 'unavailable' ? 503 : 400, e.message);
  }
}
