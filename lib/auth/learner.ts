/**
 * Learner identity: an opaque random id in an HttpOnly, SameSite=Lax cookie.
 * Sessions are bound to it, so another browser cannot see or drive them.
 */
import crypto from 'node:crypto';

export const LEARNER_COOKIE = 'labforge_learner';
const VALID = /^[A-Za-z0-9_-]{32}$/;

export function learnerFromCookieHeader(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === LEARNER_COOKIE) {
      const value = decodeURIComponent(v.join('='));
      return VALID.test(value) ? value : undefined;
    }
  }
  return undefined;
}

export const newLearnerId = () => crypto.randomBytes(24).toString('base64url');

export function learnerCookie(id: string, secure: boolean): string {
  return `${LEARNER_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000${secure ? '; Secure' : ''}`;
}
