/**
 * Instructors at the edge: the signed-in account of a request (its login cookie,
 * lib/accounts/logins.ts), for route handlers (`instructorFor`) and pages (`instructorForPage`,
 * which sends a visitor without a login to /login and back). Instructors act on any session;
 * the session layer knows only learner ids, so `ownerOf` resolves a session to its learner, as
 * lib/http/grader.ts does for graders.
 */
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { cache } from 'react';
import { loginSecretFrom, LOGIN_COOKIE, whoIs } from '../accounts/logins';
import { grants, type Instructor, type Role } from '../accounts/roles';
import { runtime } from '../runtime/index';
import { HttpError } from './route';

export type { Instructor } from '../accounts/roles';

/** The signed-in instructor of a request; 401 without a login, 403 when the role is too low. */
export async function instructorFor(req: Request, role: Role = 'instructor'): Promise<Instructor> {
  const me = await whoIs(runtime().db, loginSecretFrom(req.headers.get('cookie')));
  if (!me) throw new HttpError(401, 'sign in as an instructor first (/login)', { code: 'unauthorized' });
  if (!grants(me.role, role)) throw new HttpError(403, `this needs the ${role} role`, { code: 'forbidden' });
  return me;
}

/**
 * The signed-in instructor of the page being rendered, if any. Cached per render (React `cache`):
 * the instructor layout and its page both ask, and the login is read once.
 */
export const signedIn = cache(async (): Promise<Instructor | undefined> => {
  const secret = (await cookies()).get(LOGIN_COOKIE)?.value;
  return whoIs(runtime().db, loginSecretFrom(secret ? `${LOGIN_COOKIE}=${secret}` : undefined));
});

/** The signed-in instructor of the page being rendered; redirects to /login?next=<path> otherwise. */
export async function instructorForPage(nextPath: string, role: Role = 'instructor'): Promise<Instructor> {
  const me = await signedIn();
  if (!me) redirect(`/login?next=${encodeURIComponent(nextPath)}`);
  if (!grants(me.role, role)) redirect('/instructor?denied=1');
  return me;
}

/** The learner who owns a session, to act as (404 when there is no such session). */
export async function ownerOf(sessionId: string): Promise<string> {
  const row = await runtime().db.session.findUnique({ where: { id: sessionId }, select: { learnerId: true } });
  if (!row) throw new HttpError(404, 'session not found');
  return row.learnerId;
}
