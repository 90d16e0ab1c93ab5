/**
 * The LTI 1.3 claims Labforge reads from a platform's id_token and writes into its own JWTs, by
 * their full names (IMS LTI Core 1.3, Deep Linking 2.0, AGS 2.0), and the id_token's shape as zod
 * checks it: each claim a launch needs is named when it is missing or malformed.
 */
import { z } from 'zod';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
const DL = 'https://purl.imsglobal.org/spec/lti-dl/claim/';

export const CLAIM = {
  messageType: `${LTI}message_type`,
  version: `${LTI}version`,
  deploymentId: `${LTI}deployment_id`,
  targetLinkUri: `${LTI}target_link_uri`,
  resourceLink: `${LTI}resource_link`,
  custom: `${LTI}custom`,
  roles: `${LTI}roles`,
  deepLinkingSettings: `${DL}deep_linking_settings`,
  contentItems: `${DL}content_items`,
  data: `${DL}data`,
  ags: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
} as const;

export const AGS_SCORE_SCOPE = 'https://purl.imsglobal.org/spec/lti-ags/scope/score';
export const MESSAGE_TYPES = ['LtiResourceLinkRequest', 'LtiDeepLinkingRequest'] as const;

const short = (max: number) => z.string().min(1).max(max);

/** What every launch carries, whatever its message type. */
export const BaseClaims = z.object({
  [CLAIM.messageType]: z.enum(MESSAGE_TYPES, { error: 'is not a message type this tool handles (LtiResourceLinkRequest, LtiDeepLinkingRequest)' }),
  [CLAIM.version]: z.literal('1.3.0', { error: 'must be 1.3.0' }),
  [CLAIM.deploymentId]: short(255),
  nonce: short(255),
  sub: short(255).optional(),
  [CLAIM.custom]: z.record(z.string(), z.unknown()).optional(),
});

export const ResourceLinkClaims = BaseClaims.extend({
  sub: short(255),
  [CLAIM.resourceLink]: z.object({ id: short(255), title: z.string().max(500).optional() }),
  [CLAIM.ags]: z
    .object({ scope: z.array(z.string().max(200)).max(20).default([]), lineitem: z.url().max(2000).optional(), lineitems: z.url().max(2000).optional() })
    .optional(),
});
export type ResourceLinkLaunch = z.infer<typeof ResourceLinkClaims>;

export const DeepLinkingClaims = BaseClaims.extend({
  [CLAIM.deepLinkingSettings]: z.object({
    deep_link_return_url: z.url().max(2000),
    accept_types: z
      .array(z.string().max(100))
      .max(20)
      .refine((t) => t.includes('ltiResourceLink'), 'does not accept ltiResourceLink items'),
    data: z.string().max(4096).optional(),
  }),
});
export type DeepLinkingLaunch = z.infer<typeof DeepLinkingClaims>;

/** The lab a launch names in its custom parameters (`lab=<slug>`), if any. */
export function customLab(claims: { [CLAIM.custom]?: Record<string, unknown> }): string | undefined {
  const lab = claims[CLAIM.custom]?.lab;
  return typeof lab === 'string' && /^[a-z0-9][a-z0-9-]{0,62}$/.test(lab) ? lab : undefined;
}
