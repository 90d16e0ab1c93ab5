/**
 * OIDC third-party login initiation (LTI Core 1.3 §5.1.1): the LMS sends the browser here (GET or a
 * form POST) naming itself (`iss`, `client_id`) and the user (`login_hint`); the browser is sent
 * on to the platform's auth URL with a fresh state and nonce, the state also set as a cookie.
 */
import { z } from 'zod';
import type { LtiDeps } from './deps';
import { LtiError } from './errors';
import { readForm } from './form';
import { LoginStates, stateCookie } from './login-state';
import { Platforms } from './platforms';
import { toolUrls } from './tool-urls';

const LoginParams = z.object({
  iss: z.string().max(2000),
  login_hint: z.string().max(4096),
  target_link_uri: z.string().max(2000),
  lti_message_hint: z.string().max(4096).optional(),
  client_id: z.string().max(255).optional(),
  lti_deployment_id: z.string().max(255).optional(),
});

export async function loginInitiation(req: Request, deps: LtiDeps): Promise<Response> {
  const source = req.method === 'POST' ? await readForm(req, 16 * 1024) : new URL(req.url).searchParams;
  const parsed = LoginParams.safeParse(Object.fromEntries([...source.entries()].filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LtiError(400, `login initiation: ${String(issue.path[0])} ${issue.code === 'invalid_type' ? 'is missing' : `is too long (${issue.message})`}`);
  }
  const p = parsed.data;
  const platform = await new Platforms(deps.db).find(p.iss, p.client_id);
  if (!platform)
    throw new LtiError(
      400,
      `no LMS with issuer ${p.iss.slice(0, 200)}${p.client_id ? ` and client id ${p.client_id}` : ''} is registered here (labforge lti add-platform)`,
    );
  const urls = toolUrls(deps.config.publicUrl);
  // The id_token goes to one of our two registered redirect URIs, never to a URL the request names.
  if (!URL.canParse(p.target_link_uri) || !deps.config.allowedOrigins.includes(new URL(p.target_link_uri).origin))
    throw new LtiError(400, 'target_link_uri is not on this Labforge server');
  const redirectUri = p.target_link_uri.split('?')[0] === urls.deepLink ? urls.deepLink : urls.launch;
  const { state, nonce } = await new LoginStates(deps.db).create(platform.id);
  const auth = new URL(platform.authLoginUrl);
  const query = {
    scope: 'openid',
    response_type: 'id_token',
    response_mode: 'form_post',
    prompt: 'none',
    client_id: platform.clientId,
    redirect_uri: redirectUri,
    login_hint: p.login_hint,
    state,
    nonce,
    ...(p.lti_message_hint ? { lti_message_hint: p.lti_message_hint } : {}),
  };
  for (const [k, v] of Object.entries(query)) auth.searchParams.set(k, v);
  return new Response(null, { status: 302, headers: { location: auth.toString(), 'set-cookie': stateCookie(state), 'cache-control': 'no-store' } });
}
