/**
 * AGS score passback against the simulated LMS: a passed Check and the completion of a session an
 * LTI launch opened reach the line item's scores endpoint, with an access token got by the
 * client-credentials grant with the tool's signed assertion (cached), in order, retried while the
 * LMS is down. Sessions not launched over LTI send nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as launchRoute from '../../app/lti/launch/route';
import * as loginRoute from '../../app/lti/login/route';
import { learnerFromCookieHeader } from '../../lib/auth/learner';
import { log } from '../../lib/base/log';
import { AGS_SCORE_SCOPE } from '../../lib/lti/claims';
import { ScoreDispatcher } from '../../lib/lti/score-dispatcher';
import { scoresUrl } from '../../lib/lti/score-outbox';
import { graderHarness, whenActive, type GraderHarness } from '../support/graders';
import { until } from '../webhooks/support';
import { formPost, login, startLms, type Lms } from './support';

let h: GraderHarness;
let lms: Lms;
let dispatcher: ScoreDispatcher;

beforeAll(async () => {
  h = await graderHarness('lti-scores');
  lms = await startLms(h.db);
  dispatcher = new ScoreDispatcher(h.db, log, { pollMs: 20, backoffBaseMs: 20, maxBackoffMs: 100, timeoutMs: 2000 });
  dispatcher.start();
});
afterAll(async () => {
  await dispatcher?.stop();
  await lms?.close();
  await h?.close();
});

async function launched(): Promise<{ id: string; learnerId: string }> {
  const l = await login(loginRoute.GET, lms);
  const res = await formPost(launchRoute.POST, '/lti/launch', { id_token: await lms.idToken(l.nonce), state: l.state }, l.cookie);
  expect(res.status).toBe(303);
  const id = res.headers.get('location')!.split('/').pop()!;
  const learnerId = learnerFromCookieHeader(
    res.headers
      .getSetCookie()
      .find((c) => c.startsWith('labforge_learner='))!
      .split(';')[0],
  )!;
  await whenActive(h, id, learnerId);
  return { id, learnerId };
}

describe('score passback', () => {
  it('keeps a line item URL’s query when it names the scores endpoint', () => {
    expect(scoresUrl('https://lms.example.org/mod/lti/services.php/2/lineitems/7/lineitem?type_id=1')).toBe(
      'https://lms.example.org/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=1',
    );
  });

  it('posts passed/total InProgress on each passed Check, then Completed/FullyGraded, authenticated, in order, through an LMS outage', async () => {
    const { id, learnerId } = await launched();
    lms.answers.push(503, 503); // the LMS is down for the first score's first two attempts
    expect((await h.svc.check(id, learnerId)).passed).toBe(true);
    await h.svc.next(id, learnerId);
    expect((await h.svc.check(id, learnerId)).passed).toBe(true);
    await h.svc.next(id, learnerId); // the last challenge: the session completes

    await until(async () => (await h.db.ltiScore.count({ where: { sessionId: id, deliveredAt: { not: null } } })) === 3, 20_000, 'three delivered scores');
    const delivered = lms.scores.slice(2); // the two refused attempts first
    expect(lms.scores.slice(0, 2).map((s) => s.body.scoreGiven)).toEqual([1, 1]);
    expect(delivered.map((s) => [s.body.scoreGiven, s.body.scoreMaximum, s.body.activityProgress, s.body.gradingProgress])).toEqual([
      [1, 2, 'InProgress', 'Pending'],
      [2, 2, 'InProgress', 'Pending'],
      [2, 2, 'Completed', 'FullyGraded'],
    ]);
    for (const s of lms.scores) {
      expect(s.authorized).toBe(true);
      expect(s.contentType).toBe('application/vnd.ims.lis.v1.score+json');
      expect(s.body.userId).toBe('user-42');
      expect(new Date(s.body.timestamp as string).toISOString()).toBe(s.body.timestamp);
    }
    const stamps = delivered.map((s) => Date.parse(s.body.timestamp as string));
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
    // One token for all of them: the client assertion verified against the tool's JWKS, for the score scope.
    expect(lms.tokenRequests).toEqual([{ assertionValid: true, scope: AGS_SCORE_SCOPE }]);
    const rows = await h.db.ltiScore.findMany({ where: { sessionId: id }, orderBy: { id: 'asc' } });
    expect(rows.map((r) => r.attempts)).toEqual([3, 1, 1]);
    expect(rows.map((r) => r.lastStatus)).toEqual([200, 200, 200]);
  });

  it('sends nothing for a session a learner started in the browser', async () => {
    const learnerId = 'b'.repeat(32);
    const { id } = await h.svc.start('beta', learnerId);
    await whenActive(h, id, learnerId);
    expect((await h.svc.check(id, learnerId)).passed).toBe(true);
    const cursorMoved = async () =>
      ((await h.db.webhookCursor.findUnique({ where: { name: 'lti-scores' } }))?.lastEventId ?? 0) >=
      (await h.db.event.aggregate({ _max: { id: true } }))._max.id!;
    await until(cursorMoved, 10_000, 'the score outbox to read the check');
    expect(await h.db.ltiScore.count({ where: { sessionId: id } })).toBe(0);
  });
});
