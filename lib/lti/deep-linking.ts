/**
 * Deep Linking 2.0: an LtiDeepLinkingRequest shows the labs to choose from (a form per lab, no
 * script); the choice comes back to /lti/deep-link and is answered with a signed
 * LtiDeepLinkingResponse in a form the teacher sends back to the LMS with a visible button. The
 * request's context (platform, deployment, return URL, `data`) travels between the two pages in a
 * short-lived JWT signed with the tool's own key, so nothing is stored for a picker left open.
 */
import crypto from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { CLAIM, DeepLinkingClaims } from './claims';
import type { LtiDeps } from './deps';
import { escapeHtml, LtiError } from './errors';
import { field } from './form';
import { htmlPage } from './html';
import { claimError, type IdToken } from './id-token';
import { Platforms, type Platform } from './platforms';
import { ALG, publicJwks, signingKey } from './tool-keys';
import { toolUrls } from './tool-urls';

const CONTEXT_AUDIENCE = 'labforge:lti:deep-linking';
const Context = z.object({ platformId: z.string(), deploymentId: z.string(), returnUrl: z.url(), data: z.string().optional() });
type Context = z.infer<typeof Context>;

const origin = (url: string) => new URL(url).origin;

/** The picker: one form per installed lab. */
export async function deepLinkingPicker(token: IdToken, platform: Platform, deps: LtiDeps): Promise<Response> {
  const parsed = DeepLinkingClaims.safeParse(token);
  if (!parsed.success) throw claimError(parsed.error);
  const settings = parsed.data[CLAIM.deepLinkingSettings];
  const context: Context = {
    platformId: platform.id,
    deploymentId: parsed.data[CLAIM.deploymentId],
    returnUrl: settings.deep_link_return_url,
    data: settings.data,
  };
  const { kid, key } = await signingKey(deps.db);
  const signed = await new SignJWT({ ctx: context })
    .setProtectedHeader({ alg: ALG, kid })
    .setAudience(CONTEXT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('30m')
    .sign(key);
  const labs = deps.catalog.list();
  const items = labs
    .map(
      (lab) => `<li><form method="post" action="/lti/deep-link"><input type="hidden" name="context" value="${signed}">
<input type="hidden" name="lab" value="${escapeHtml(lab.track.slug)}"><button type="submit">Add “${escapeHtml(lab.track.title)}”</button>
<span>${lab.challenges.length} challenge${lab.challenges.length === 1 ? '' : 's'}</span></form></li>`,
    )
    .join('\n');
  const body = labs.length ? `<p>Choose the lab to add to your course.</p><ul>${items}</ul>` : '<p>No labs are installed on this Labforge yet.</p>';
  return htmlPage('Add a Labforge lab', body, { frameBy: [origin(platform.issuer), origin(context.returnUrl)] });
}

/** POST /lti/deep-link with a choice: the signed answer, in a form back to the LMS. */
export async function deepLinkingChoice(form: URLSearchParams, deps: LtiDeps): Promise<Response> {
  const context = await readContext(field(form, 'context', { max: 8192 })!, deps);
  const slug = field(form, 'lab', { max: 64 })!;
  const lab = deps.catalog.get(slug);
  if (!lab) throw new LtiError(404, `the lab "${slug.slice(0, 64)}" is not installed on this Labforge`);
  const platform = await new Platforms(deps.db).byId(context.platformId);
  if (!platform) throw new LtiError(400, 'the LMS this picker was opened from is no longer registered here');
  const jwt = await responseJwt(platform, context, lab.track.slug, lab.track.title, lab.challenges.length, deps);
  const body = `<p>“${escapeHtml(lab.track.title)}” is ready to be added to your course.</p>
<form method="post" action="${escapeHtml(context.returnUrl)}"><input type="hidden" name="JWT" value="${jwt}"><button type="submit">Return to course</button></form>`;
  return htmlPage('Return to your course', body, { formTo: [origin(context.returnUrl)], frameBy: [origin(platform.issuer), origin(context.returnUrl)] });
}

async function readContext(text: string, deps: LtiDeps): Promise<Context> {
  try {
    const { payload } = await jwtVerify(text, createLocalJWKSet(await publicJwks(deps.db)), { audience: CONTEXT_AUDIENCE, algorithms: [ALG] });
    return Context.parse(payload.ctx);
  } catch {
    throw new LtiError(401, 'this lab picker has expired or was not opened from an LMS: start again from the LMS');
  }
}

/** The LtiDeepLinkingResponse: one ltiResourceLink opening `lab`, with a line item worth one point per challenge. */
async function responseJwt(platform: Platform, ctx: Context, lab: string, title: string, challenges: number, deps: LtiDeps): Promise<string> {
  const item = {
    type: 'ltiResourceLink',
    title,
    url: toolUrls(deps.config.publicUrl).launch,
    custom: { lab },
    lineItem: { scoreMaximum: challenges, label: title, resourceId: lab },
  };
  const { kid, key } = await signingKey(deps.db);
  return new SignJWT({
    nonce: crypto.randomBytes(16).toString('base64url'),
    [CLAIM.messageType]: 'LtiDeepLinkingResponse',
    [CLAIM.version]: '1.3.0',
    [CLAIM.deploymentId]: ctx.deploymentId,
    [CLAIM.contentItems]: [item],
    ...(ctx.data !== undefined ? { [CLAIM.data]: ctx.data } : {}),
  })
    .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
    .setIssuer(platform.clientId)
    .setAudience(platform.issuer)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}
