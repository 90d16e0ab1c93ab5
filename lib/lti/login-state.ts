/**
 * OIDC logins in progress: the `state` and `nonce` sent to the platform's auth URL, stored for 10
 * minutes and usable once. Only the state's SHA-256 is stored; the state itself is also in a
 * cookie of the browser that started the login, so the id_token is accepted only from that
 * browser. Using one up is one conditional write, so two posts of the same state cannot both win.
 */
import crypto from 'node:crypto';
import type { Db } from '../db/client';
import { LtiError } from './errors';

export const STATE_TTL_MS = 10 * 60_000;
const STATE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

const hash = (state: string) => crypto.createHash('sha256').update(state).digest('hex');

/** The browser cookie binding a state to the browser (its name is per state: several logins may be under way). */
export const stateCookieName = (state: string) => `labforge_lti_${hash(state).slice(0, 16)}`;

/** SameSite=None: the id_token arrives in a cross-site POST from the LMS. Secure is required with it (LTI needs https). */
export const stateCookie = (state: string, maxAgeSeconds = STATE_TTL_MS / 1000) =>
  `${stateCookieName(state)}=${maxAgeSeconds ? state : ''}; Path=/lti/; HttpOnly; Secure; SameSite=None; Max-Age=${maxAgeSeconds}`;

export function stateFromCookies(header: string | null, state: string): string | undefined {
  const name = stateCookieName(state);
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

export class LoginStates {
  constructor(
    private db: Db,
    private now: () => Date = () => new Date(),
  ) {}

  async create(platformId: string): Promise<{ state: string; nonce: string }> {
    const now = this.now();
    const state = crypto.randomBytes(32).toString('base64url');
    const nonce = crypto.randomBytes(24).toString('base64url');
    // Old logins go as new ones come: the table holds at most ten minutes of them (plus a day of used ones).
    await this.db.ltiLaunchState.deleteMany({ where: { expiresAt: { lt: new Date(now.getTime() - 86_400_000) } } });
    await this.db.ltiLaunchState.create({ data: { hash: hash(state), platformId, nonce, expiresAt: new Date(now.getTime() + STATE_TTL_MS) } });
    return { state, nonce };
  }

  /** Uses the state up and answers its platform and nonce; a used, expired or unknown state is refused (401). */
  async consume(state: string): Promise<{ platformId: string; nonce: string }> {
    if (!STATE_SHAPE.test(state)) throw new LtiError(401, 'the launch state is not one this tool issued: start the launch from the LMS again');
    const now = this.now();
    const used = await this.db.ltiLaunchState.updateMany({ where: { hash: hash(state), usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
    const row = await this.db.ltiLaunchState.findUnique({ where: { hash: hash(state) } });
    if (!row) throw new LtiError(401, 'the launch state is not one this tool issued: start the launch from the LMS again');
    if (used.count !== 1 && row.usedAt)
      throw new LtiError(401, 'this launch was already used (a replayed id_token or nonce): open the activity from the LMS again');
    if (used.count !== 1) throw new LtiError(401, 'this launch took longer than 10 minutes and has expired: open the activity from the LMS again');
    return { platformId: row.platformId, nonce: row.nonce };
  }
}
