/**
 * Deep Linking 2.0 against the simulated LMS: a deep-linking launch shows the labs (a page with
 * forms and no script), a choice is answered with an LtiDeepLinkingResponse JWT that verifies
 * with the tool's published JWKS and carries the lab and its line item, sent back by a visible
 * "Return to course" button. The tool's JWKS publishes no private part.
 */
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as deepLinkRoute from '../../app/lti/deep-link/route';
import * as jwksRoute from '../../app/lti/jwks/route';
import * as loginRoute from '../../app/lti/login/route';
import { CLAIM } from '../../lib/lti/claims';
import { graderHarness, type GraderHarness } from '../support/graders';
import { CLIENT_ID, DEPLOYMENT, errorOf, formPost, login, startLms, type Lms } from './support';

let h: GraderHarness;
let lms: Lms;

beforeAll(async () => {
  h = await graderHarness('lti-deep-linking');
  lms = await startLms(h.db);
});
afterAll(async () => {
  await lms?.close();
  await h?.close();
});

const DL_URL = 'https://labs.example.org/lti/deep-link';
const post = (form: Record<string, string>, cookie?: string, accept = 'text/html') => formPost(deepLinkRoute.POST, '/lti/deep-link', form, cookie, accept);
const settings = () => ({ deep_link_return_url: `${lms.issuer}/deep-link-return?course=3`, accept_types: ['link', 'ltiResourceLink'], data: 'opaque-123' });

async function picker(over: Record<string, unknown> = {}) {
  const l = await login(loginRoute.GET, lms, DL_URL);
  expect(l.location.searchParams.get('redirect_uri')).toBe(DL_URL);
  const idToken = await lms.idToken(l.nonce, {
    [CLAIM.messageType]: 'LtiDeepLinkingRequest',
    [CLAIM.resourceLink]: undefined,
    [CLAIM.ags]: undefined,
    [CLAIM.custom]: undefined,
    [CLAIM.deepLinkingSettings]: settings(),
    ...over,
  });
  return post({ id_token: idToken, state: l.state }, l.cookie);
}

const hidden = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

describe('deep linking', () => {
  it('shows the labs to choose from: forms, no script, framable by the LMS', async () => {
    const res = await picker();
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain(`frame-ancestors 'self' ${lms.issuer}`);
    expect(csp).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).not.toContain('<script');
    expect(html).toContain('<button type="submit">Add “Lab alpha”</button>');
    expect(html).toContain('<button type="submit">Add “Lab beta”</button>');
    expect(html.match(/<form method="post" action="\/lti\/deep-link">/g)).toHaveLength(2);
  });

  it('answers a choice with a signed LtiDeepLinkingResponse that verifies with the tool JWKS and carries the lab', async () => {
    const html = await (await picker()).text();
    const res = await post({ context: hidden(html, 'context')!, lab: 'alpha' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain(`form-action 'self' ${lms.issuer}`);
    const page = await res.text();
    expect(page).toContain(`<form method="post" action="${lms.issuer}/deep-link-return?course=3">`);
    expect(page).toContain('<button type="submit">Return to course</button>');
    expect(page).not.toContain('<script');

    const jwks = (await (await jwksRoute.GET()).json()) as { keys: JWK[] };
    for (const k of jwks.keys) expect(Object.keys(k).filter((p) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(p))).toEqual([]);
    const { payload, protectedHeader } = await jwtVerify(hidden(page, 'JWT')!, createLocalJWKSet(jwks), { issuer: CLIENT_ID, audience: lms.issuer });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: jwks.keys[0].kid });
    expect(payload).toMatchObject({
      [CLAIM.messageType]: 'LtiDeepLinkingResponse',
      [CLAIM.version]: '1.3.0',
      [CLAIM.deploymentId]: DEPLOYMENT,
      [CLAIM.data]: 'opaque-123',
      [CLAIM.contentItems]: [
        {
          type: 'ltiResourceLink',
          title: 'Lab alpha',
          url: 'https://labs.example.org/lti/launch',
          custom: { lab: 'alpha' },
          lineItem: { scoreMaximum: 2, label: 'Lab alpha', resourceId: 'alpha' },
        },
      ],
    });
    expect(typeof payload.nonce).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('refuses a forged or tampered picker context (401), an unknown lab (404), and a request without deep-linking settings (400)', async () => {
    const context = hidden(await (await picker()).text(), 'context')!;
    const tampered = await post({ context: `${context.slice(0, -4)}AAAA`, lab: 'alpha' }, undefined, 'application/json');
    expect(tampered.status).toBe(401);
    expect(await errorOf(tampered)).toMatch(/^this lab picker has expired or was not opened from an LMS/);
    const unknown = await post({ context, lab: 'gamma' }, undefined, 'application/json');
    expect(unknown.status).toBe(404);
    const noSettings = await picker({ [CLAIM.deepLinkingSettings]: undefined });
    expect(noSettings.status).toBe(400);
    expect(await noSettings.text()).toContain('deep_linking_settings is missing');
    const noResourceLinks = await picker({ [CLAIM.deepLinkingSettings]: { ...settings(), accept_types: ['file'] } });
    expect(noResourceLinks.status).toBe(400);
    expect(await noResourceLinks.text()).toContain('does not accept ltiResourceLink items');
  });
});
