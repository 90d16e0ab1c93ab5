/**
 * The id_token of a launch, verified (LTI Core 1.3 §5.1.3, the Security Framework §5.1.3): signed
 * by a key in the platform's JWKS, issued by the platform to this tool (`iss`, `aud`, `azp`),
 * current (`exp`, `iat`, with a little leeway for clocks), carrying the nonce of this login, and an
 * LTI 1.3 message of a deployment the platform was registered with. Each failure is a 400 or 401
 * saying which check failed.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { BaseClaims, CLAIM } from './claims';
import { LtiError } from './errors';
import { platformKeys } from './platform-keys';
import { acceptsDeployment, type Platform } from './platforms';

/** Clock skew tolerated on exp, iat and nbf. */
export const LEEWAY_SECONDS = 30;
/** An id_token issued longer ago than this is stale even if its exp is further away. */
const MAX_AGE = '10m';
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384'];

export type IdToken = JWTPayload & z.infer<typeof BaseClaims>;

export async function verifyIdToken(idToken: string, platform: Platform, nonce: string): Promise<IdToken> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, platformKeys(platform), {
      issuer: [platform.issuer, `${platform.issuer}/`],
      audience: platform.clientId,
      algorithms: ALGORITHMS,
      clockTolerance: LEEWAY_SECONDS,
      maxTokenAge: MAX_AGE,
      requiredClaims: ['exp', 'iat', 'nonce'],
    }));
  } catch (e) {
    throw verifyError(e, platform);
  }
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if ((aud.length > 1 || payload.azp !== undefined) && payload.azp !== platform.clientId)
    throw new LtiError(401, `the id_token's azp (authorized party) is not this tool's client id ${platform.clientId}`);
  if (payload.nonce !== nonce) throw new LtiError(401, "the id_token's nonce is not this launch's: a replayed or forged token");
  const claims = BaseClaims.safeParse(payload);
  if (!claims.success) throw claimError(claims.error);
  const deployment = claims.data[CLAIM.deploymentId];
  if (!acceptsDeployment(platform, deployment))
    throw new LtiError(400, `deployment ${deployment.slice(0, 100)} of ${platform.name} is not registered here (labforge lti add-platform --deployment-id)`);
  return { ...payload, ...claims.data };
}

/** A zod failure on a claim, named by the claim's short name. */
export function claimError(error: z.ZodError): LtiError {
  const issue = error.issues[0];
  const name = issue.path.map((p) => String(p).split('/').pop()).join('.');
  return new LtiError(
    400,
    `the id_token's claim ${name || '(root)'} ${issue.code === 'invalid_type' && issue.input === undefined ? 'is missing' : issue.message}`,
  );
}

function verifyError(e: unknown, platform: Platform): LtiError {
  if (e instanceof errors.JWTExpired) return new LtiError(401, 'the id_token has expired: open the activity from the LMS again');
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return new LtiError(401, `the id_token is for another tool: its audience is not this tool's client id ${platform.clientId}`);
    if (e.claim === 'iss') return new LtiError(401, `the id_token was not issued by ${platform.issuer}`);
    if (e.claim === 'iat') return new LtiError(401, 'the id_token was issued too long ago (or in the future): open the activity from the LMS again');
    return new LtiError(401, `the id_token's ${e.claim} claim is not valid: ${e.reason}`);
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return new LtiError(401, `the id_token's signature does not verify with ${platform.name}'s keys`);
  if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys)
    return new LtiError(401, `the id_token is signed with a key that is not in ${platform.name}'s key set (${platform.jwksUrl})`);
  if (e instanceof errors.JOSEAlgNotAllowed) return new LtiError(401, 'the id_token is signed with an algorithm this tool does not accept');
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid || e instanceof errors.JOSENotSupported)
    return new LtiError(400, 'the id_token is not a well-formed signed JWT');
  // Fetching the key set failed (unreachable, a timeout, not 200, not a JWKS): nothing the browser can fix.
  return new LtiError(502, `${platform.name}'s key set (${platform.jwksUrl}) could not be fetched: ${(e as Error)?.message?.slice(0, 200)}`);
}
