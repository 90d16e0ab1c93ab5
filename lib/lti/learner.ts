/**
 * The Labforge learner an LMS user is: the same for every launch of the same (platform, `sub`),
 * so per-learner caps count the person and their sessions resume. Like graders' learners
 * (lib/auth/on-behalf.ts), the id is an HMAC under a secret of the platform's record, not a plain
 * hash: a learner id is the cookie, and anyone knowing a `sub` could otherwise compute it.
 */
import crypto from 'node:crypto';
import type { Platform } from './platforms';

export function ltiLearnerId(platform: Pick<Platform, 'id' | 'secret'>, sub: string): string {
  return crypto.createHmac('sha256', platform.secret).update(`lti\0${platform.id}\0${sub}`).digest('base64url').slice(0, 32);
}
