/**
 * The launch endpoint (the OIDC redirect URI): the platform's auth server posts the id_token and
 * our state here. The state must be this browser's (its cookie) and unused; the token must verify
 * (id-token.ts). Then a resource link opens its session, a deep-linking request the lab picker.
 */
import { CLAIM } from './claims';
import type { LtiDeps } from './deps';
import { LtiError } from './errors';
import { field } from './form';
import { verifyIdToken } from './id-token';
import { deepLinkingPicker } from './deep-linking';
import { LoginStates, stateCookie, stateFromCookies } from './login-state';
import { Platforms } from './platforms';
import { resourceLaunch } from './resource-launch';

export async function launch(req: Request, form: URLSearchParams, deps: LtiDeps): Promise<Response> {
  const error = field(form, 'error', { max: 200, optional: true });
  if (error) throw new LtiError(400, `the LMS did not authenticate this launch: ${error} ${form.get('error_description')?.slice(0, 300) ?? ''}`.trim());
  const idToken = field(form, 'id_token', { max: 60_000 })!;
  const state = field(form, 'state', { max: 100 })!;
  if (stateFromCookies(req.headers.get('cookie'), state) !== state)
    throw new LtiError(
      401,
      'this launch did not start in this browser (its state cookie is missing). LTI needs Labforge on https, opened in a window of its own rather than a frame.',
    );
  const { platformId, nonce } = await new LoginStates(deps.db).consume(state);
  const platform = await new Platforms(deps.db).byId(platformId);
  if (!platform) throw new LtiError(400, 'the LMS that started this launch is no longer registered here');
  const token = await verifyIdToken(idToken, platform, nonce);
  const res =
    token[CLAIM.messageType] === 'LtiDeepLinkingRequest' ? await deepLinkingPicker(token, platform, deps) : await resourceLaunch(req, token, platform, deps);
  res.headers.append('set-cookie', stateCookie(state, 0));
  return res;
}
