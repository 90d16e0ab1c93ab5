/**
 * LTI 1.3 launches against a simulated LMS on localhost (its own keys, its JWKS), over a real
 * SQLite database and real sessions on the in-memory driver: OIDC login initiation, the id_token
 * form post, the session it opens with the learner cookie, and each way a launch is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as launchRoute from '../../app/lti/launch/route';
import * as loginRoute from '../../app/lti/login/route';
import { learnerFromCookieHeader } from '../../lib/auth/learner';
import { CLAIM } from '../../lib/lti/claims';
import { configureJwksCache } from '../../lib/lti/platform-keys';
import { graderHarness, whenActive, type GraderHarness } from '../support/graders';
import { CLIENT_ID, errorOf, formPost, login, startLms, type Lms } from './support';

let h: GraderHarness;
let lms: Lms;

beforeAll(async () => {
  h = await graderHarness('lti-launch');
  lms = await startLms(h.db);
  configureJwksCache({ cooldownMs: 0 }); // a rotated key is fetched at once (production: 30 s between refetches)
});
afterAll(async () => {
  await lms?.close();
  await h?.close();
});

const launch = (form: Record<string, string>, cookie?: string, accept?: string) => formPost(launchRoute.POST, '/lti/launch', form, cookie, accept);

/** A login, then the id_token the LMS signs for it (claims and options as given), posted with the state cookie. */
async function launchWith(over: Record<string, unknown> = {}, opts: Parameters<Lms['idToken']>[2] = {}) {
  const l = await login(loginRoute.GET, lms);
  const idToken = await lms.idToken(l.nonce, over, opts);
  return { l, idToken, res: await launch({ id_token: idToken, state: l.state }, l.cookie) };
}

describe('OIDC login initiation', () => {
  it('redirects to the platform auth URL with a fresh state and nonce, the state bound to this browser by a cookie', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const l = await login(method === 'GET' ? loginRoute.GET : loginRoute.POST, lms, undefined, method);
      expect(`${l.location.origin}${l.location.pathname}`).toBe(`${lms.issuer}/auth`);
      expect(Object.fromEntries(l.location.searchParams)).toMatchObject({
        scope: 'openid',
        response_type: 'id_token',
        response_mode: 'form_post',
        prompt: 'none',
        client_id: CLIENT_ID,
        redirect_uri: 'https://labs.example.org/lti/launch',
        login_hint: 'user-42',
        lti_message_hint: 'hint-1',
      });
      expect(l.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(l.nonce.length).toBeGreaterThanOrEqual(32);
      expect(l.setCookie).toMatch(/HttpOnly; Secure; SameSite=None; Max-Age=600$/);
      expect(l.cookie.split('=')[1]).toBe(l.state);
    }
    // Only the state's hash is stored.
    expect(JSON.stringify(await h.db.ltiLaunchState.findMany())).not.toContain((await login(loginRoute.GET, lms)).state);
  });

  it('refuses an unknown issuer or client id, a missing parameter, and a target that is not this server (400)', async () => {
    const get = (q: Record<string, string>) =>
      loginRoute.GET(new Request(`http://localhost/lti/login?${new URLSearchParams(q)}`, { headers: { accept: 'application/json' } }));
    const good = { iss: lms.issuer, login_hint: 'u', target_link_uri: 'https://labs.example.org/lti/launch', client_id: CLIENT_ID };
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...good, iss: 'https://lms.invalid' }, /^no LMS with issuer https:\/\/lms\.invalid and client id labforge-client is registered/],
      [{ ...good, client_id: 'other' }, /^no LMS with issuer .* and client id other/],
      [{ ...good, login_hint: '' }, /^login initiation: login_hint is missing/],
      [{ ...good, target_link_uri: 'https://evil.example.com/lti/launch' }, /^target_link_uri is not on this Labforge server/],
    ];
    for (const [q, message] of cases) {
      const res = await get(q);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatch(message);
    }
  });
});

describe('a resource link launch', () => {
  let sessionId: string;
  let learnerId: string;

  it('starts a session of the custom parameter lab for the learner, sets the learner cookie and redirects to it', async () => {
    const { l, res } = await launchWith();
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/sessions\/[a-z0-9]+$/);
    sessionId = location.split('/').pop()!;
    const cookies = res.headers.getSetCookie();
    learnerId = learnerFromCookieHeader(cookies.find((c) => c.startsWith('labforge_learner='))!.split(';')[0])!;
    expect(learnerId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(cookies).toContain(`${l.cookie.split('=')[0]}=; Path=/lti/; HttpOnly; Secure; SameSite=None; Max-Age=0`); // the state cookie is cleared
    const row = await h.db.session.findUniqueOrThrow({ where: { id: sessionId }, include: { lti: true } });
    expect(row).toMatchObject({ labSlug: 'alpha', learnerId });
    expect(row.lti).toMatchObject({ platformId: lms.platform.id, sub: 'user-42', resourceLinkId: 'link-1', lineItemUrl: lms.lineItem });
    await whenActive(h, sessionId, learnerId);
  });

  it('resumes the live session on the next launch, and maps the same user to the same learner', async () => {
    const { res } = await launchWith();
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/sessions/${sessionId}`);
    expect(res.headers.getSetCookie().some((c) => c.startsWith(`labforge_learner=${learnerId};`))).toBe(true);
    expect(await h.db.session.count({ where: { learnerId } })).toBe(1);
  });

  it('opens the lab the link opened before when a later launch names none; another user is another learner', async () => {
    const { res } = await launchWith({ sub: 'user-43', [CLAIM.custom]: undefined });
    expect(res.status).toBe(303);
    const other = await h.db.session.findUniqueOrThrow({ where: { id: res.headers.get('location')!.split('/').pop()! } });
    expect(other.labSlug).toBe('alpha');
    expect(other.learnerId).not.toBe(learnerId);
    const unknownLink = await launchWith({ sub: 'user-44', [CLAIM.custom]: undefined, [CLAIM.resourceLink]: { id: 'link-2' } });
    expect(unknownLink.res.status).toBe(400);
    expect(await errorOf(unknownLink.res)).toMatch(/^this activity names no lab/);
  });
});

describe('refusals, each with a clear 400 or 401 (never a 500)', () => {
  const cases: [string, Record<string, unknown>, Parameters<Lms['idToken']>[2], number, RegExp][] = [
    ['a bad signature', {}, { key: 'stranger' }, 401, /^the id_token's signature does not verify with moodle's keys/],
    ['a wrong audience', { aud: 'another-tool' }, {}, 401, /^the id_token is for another tool/],
    ['an expired token', {}, { iat: Math.floor(Date.now() / 1000) - 900, exp: Math.floor(Date.now() / 1000) - 600 }, 401, /^the id_token has expired/],
    ['a wrong issuer', { iss: 'https://lms.invalid' }, {}, 401, /^the id_token was not issued by/],
    ['a wrong azp', { aud: [CLIENT_ID, 'x'], azp: 'x' }, {}, 401, /azp \(authorized party\)/],
    ['an unknown deployment', { [CLAIM.deploymentId]: 'dep-9' }, {}, 400, /^deployment dep-9 of moodle is not registered here/],
    ['another LTI version', { [CLAIM.version]: '1.1' }, {}, 400, /^the id_token's claim version must be 1\.3\.0/],
    ['an unknown message type', { [CLAIM.messageType]: 'LtiSubmissionReviewRequest' }, {}, 400, /^the id_token's claim message_type is not a message type/],
    ['no resource link', { [CLAIM.resourceLink]: undefined }, {}, 400, /^the id_token's claim resource_link is missing/],
    ['no sub', { sub: undefined }, {}, 400, /^the id_token's claim sub is missing/],
    ['a lab that is not installed', { [CLAIM.custom]: { lab: 'gamma' } }, {}, 404, /^the lab "gamma" this activity names is not installed/],
  ];
  for (const [what, over, opts, status, message] of cases)
    it(`refuses ${what}`, async () => {
      const { res } = await launchWith(over, opts);
      expect(res.status).toBe(status);
      expect(await errorOf(res)).toMatch(message);
    });

  it('refuses a replayed id_token (its state and nonce are used up), and a token with another launch’s nonce', async () => {
    const first = await launchWith();
    expect(first.res.status).toBe(303);
    const replay = await launch({ id_token: first.idToken, state: first.l.state }, first.l.cookie);
    expect(replay.status).toBe(401);
    expect(await errorOf(replay)).toMatch(/^this launch was already used \(a replayed id_token or nonce\)/);
    const fresh = await login(loginRoute.GET, lms);
    const swapped = await launch({ id_token: first.idToken, state: fresh.state }, fresh.cookie);
    expect(swapped.status).toBe(401);
    expect(await errorOf(swapped)).toMatch(/^the id_token's nonce is not this launch's/);
  });

  it('refuses a state that is not this browser’s, unknown or missing fields, an LMS error, and a body over the cap', async () => {
    const l = await login(loginRoute.GET, lms);
    const idToken = await lms.idToken(l.nonce);
    const noCookie = await launch({ id_token: idToken, state: l.state });
    expect(noCookie.status).toBe(401);
    expect(await errorOf(noCookie)).toMatch(/^this launch did not start in this browser/);
    expect((await launch({ id_token: idToken, state: 'x'.repeat(43) }, `${l.cookie.split('=')[0]}=${'x'.repeat(43)}`)).status).toBe(401);
    expect(await errorOf(await launch({ state: l.state }, l.cookie))).toBe('id_token is missing');
    expect(await errorOf(await launch({ error: 'login_required', error_description: 'no session' }))).toBe(
      'the LMS did not authenticate this launch: login_required no session',
    );
    const big = await launch({ id_token: 'x'.repeat(70_000), state: l.state }, l.cookie);
    expect(big.status).toBe(413);
    // The state was never used by those: the real launch still works.
    expect((await launch({ id_token: idToken, state: l.state }, l.cookie)).status).toBe(303);
  });

  it('answers a browser with an HTML page (no script) saying why', async () => {
    const l = await login(loginRoute.GET, lms);
    const res = await launch({ id_token: await lms.idToken(l.nonce, { aud: 'nope' }), state: l.state }, l.cookie, 'text/html');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'nonce-/);
    const html = await res.text();
    expect(html).toContain('<h1>This launch could not be verified</h1>');
    expect(html).not.toContain('<script');
  });

  it('fetches the JWKS again for an unknown kid (a rotated key) and accepts the launch; a dropped key is refused', async () => {
    const old = await login(loginRoute.GET, lms);
    const oldToken = await lms.idToken(old.nonce, { sub: 'user-old-key' }); // signed with lms-1, about to be dropped
    const before = lms.jwksFetches;
    await lms.rotate(true);
    const { res } = await launchWith({ sub: 'user-rotated' });
    expect(res.status).toBe(303);
    expect(lms.jwksFetches).toBe(before + 1); // the new kid was not cached: one refetch
    const refused = await launch({ id_token: oldToken, state: old.state }, old.cookie);
    expect(refused.status).toBe(401);
    expect(await errorOf(refused)).toMatch(/^the id_token is signed with a key that is not in moodle's key set/);
  });
});
