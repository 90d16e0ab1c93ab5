/**
 * AGS access tokens (LTI Security Framework §4.1): the OAuth 2 client-credentials grant at the
 * platform's token URL, authenticated by a JWT assertion signed with the tool's key (no shared
 * secret). A token is cached per platform and scope until shortly before it expires; `forget`
 * drops one the platform refused early (a 401 on a score).
 */
import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import { z } from 'zod';
import type { Db } from '../db/client';
import type { Platform } from './platforms';
import { ALG, signingKey } from './tool-keys';

const TokenAnswer = z.object({ access_token: z.string().min(1).max(8192), expires_in: z.coerce.number().positive().optional() });
/** A cached token is not used in its last minute: it could expire while a score is on its way. */
const MARGIN_MS = 60_000;
const MAX_ANSWER = 64 * 1024;

export class AccessTokens {
  private readonly cache = new Map<string, { token: string; until: number }>();

  constructor(
    private db: Db,
    private timeoutMs = 10_000,
    private now: () => number = Date.now,
  ) {}

  async get(platform: Platform, scope: string): Promise<string> {
    const key = `${platform.id} ${scope}`;
    const cached = this.cache.get(key);
    if (cached && cached.until > this.now()) return cached.token;
    const { kid, key: signKey } = await signingKey(this.db);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
      .setIssuer(platform.clientId)
      .setSubject(platform.clientId)
      .setAudience(platform.authTokenUrl)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(crypto.randomBytes(16).toString('base64url'))
      .sign(signKey);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope,
    });
    let res: Response;
    try {
      res = await fetch(platform.authTokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new Error(
        `could not reach ${platform.name}'s token URL: ${String((e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message)}`,
      );
    }
    const text = (await res.text().catch(() => '')).slice(0, MAX_ANSWER);
    if (!res.ok) throw new Error(`${platform.name}'s token URL answered ${res.status}: ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
    let answer: z.infer<typeof TokenAnswer>;
    try {
      answer = TokenAnswer.parse(JSON.parse(text));
    } catch {
      throw new Error(`${platform.name}'s token URL did not answer an access token`);
    }
    const lifetimeMs = (answer.expires_in ?? 3600) * 1000;
    this.cache.set(key, { token: answer.access_token, until: this.now() + Math.max(0, lifetimeMs - MARGIN_MS) });
    return answer.access_token;
  }

  forget(platformId: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${platformId} `)) this.cache.delete(key);
  }
}
