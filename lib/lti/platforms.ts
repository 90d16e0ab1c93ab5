/**
 * The LMSs this tool trusts: each registered by an operator (`labforge lti add-platform`) with the
 * issuer and client id the LMS gave the tool, and the three URLs of its side of the protocol.
 * Launches from an issuer/client pair not registered here are refused.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/client';
import type { LtiPlatform } from '../db/generated/client';

export class PlatformError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlatformError';
  }
}

const Url = (what: string) =>
  z
    .string()
    .max(2000)
    .refine((u) => URL.canParse(u) && ['http:', 'https:'].includes(new URL(u).protocol), `${what} must be an http(s) URL`);

export const AddPlatformSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a platform name is a short slug: lowercase letters, digits and dashes, e.g. moodle'),
    issuer: Url('--issuer'),
    clientId: z.string().min(1).max(255),
    authLoginUrl: Url('--auth-login-url'),
    authTokenUrl: Url('--auth-token-url'),
    jwksUrl: Url('--jwks-url'),
    deploymentIds: z.array(z.string().min(1).max(255)).max(50).default([]),
  })
  .strict();
export type AddPlatform = z.input<typeof AddPlatformSchema>;

export interface Platform {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  authLoginUrl: string;
  authTokenUrl: string;
  jwksUrl: string;
  /** Empty: any deployment of this issuer and client. */
  deploymentIds: string[];
  secret: string;
  createdAt: Date;
}

export function toPlatform(row: LtiPlatform): Platform {
  let ids: string[] = [];
  try {
    ids = z.array(z.string()).catch([]).parse(JSON.parse(row.deploymentIds));
  } catch {
    // unreadable: no deployment matches (it fails closed below, since [] means any: mark it)
    ids = ['\0unreadable'];
  }
  return { ...row, deploymentIds: ids };
}

/** What `list` shows: everything but the secret. */
export function platformInfo(p: Platform) {
  const { id, name, issuer, clientId, authLoginUrl, authTokenUrl, jwksUrl, deploymentIds } = p;
  return { id, name, issuer, clientId, authLoginUrl, authTokenUrl, jwksUrl, deploymentIds, createdAt: p.createdAt.toISOString() };
}

export class Platforms {
  constructor(private db: Db) {}

  async add(input: AddPlatform): Promise<Platform> {
    const parsed = AddPlatformSchema.safeParse(input);
    if (!parsed.success) throw new PlatformError(`${parsed.error.issues[0].path.join('.') || 'platform'}: ${parsed.error.issues[0].message}`);
    const p = parsed.data;
    const issuer = p.issuer.replace(/\/$/, '');
    if (await this.db.ltiPlatform.findUnique({ where: { name: p.name } })) throw new PlatformError(`a platform named "${p.name}" already exists`);
    if (await this.db.ltiPlatform.findUnique({ where: { issuer_clientId: { issuer, clientId: p.clientId } } }))
      throw new PlatformError(`issuer ${issuer} with client id ${p.clientId} is already registered`);
    const row = await this.db.ltiPlatform.create({
      data: {
        id: `lti_${crypto.randomBytes(9).toString('base64url')}`,
        name: p.name,
        issuer,
        clientId: p.clientId,
        authLoginUrl: p.authLoginUrl,
        authTokenUrl: p.authTokenUrl,
        jwksUrl: p.jwksUrl,
        deploymentIds: JSON.stringify([...new Set(p.deploymentIds)]),
        secret: crypto.randomBytes(32).toString('base64url'),
      },
    });
    return toPlatform(row);
  }

  async list(): Promise<Platform[]> {
    return (await this.db.ltiPlatform.findMany({ orderBy: { createdAt: 'asc' } })).map(toPlatform);
  }

  /** Removes the platform with its pending scores and launch records; its sessions go on without passback. */
  async remove(name: string): Promise<void> {
    const { count } = await this.db.ltiPlatform.deleteMany({ where: { name } });
    if (!count) throw new PlatformError(`no platform is named "${name.slice(0, 40)}" (labforge lti list shows them)`);
  }

  async byId(id: string): Promise<Platform | undefined> {
    const row = await this.db.ltiPlatform.findUnique({ where: { id } });
    return row ? toPlatform(row) : undefined;
  }

  /** The platform of a login initiation: by issuer, and client id when sent (needed when an issuer has several). */
  async find(issuer: string, clientId?: string): Promise<Platform | undefined> {
    const rows = await this.db.ltiPlatform.findMany({ where: { issuer: issuer.replace(/\/$/, ''), ...(clientId ? { clientId } : {}) }, take: 2 });
    return rows.length === 1 ? toPlatform(rows[0]) : undefined;
  }
}

export const acceptsDeployment = (p: Platform, deploymentId: string) => !p.deploymentIds.length || p.deploymentIds.includes(deploymentId);
