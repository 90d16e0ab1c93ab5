/**
 * Form posts from an LMS (login initiation, the id_token, the deep-linking choice): read up to
 * `limit` bytes and no further, parsed as application/x-www-form-urlencoded.
 */
import { readBody } from '../http/read-body';
import { LtiError } from './errors';

/** id_tokens with custom claims and roles run to a few KiB; 64 KiB is ample. */
export const FORM_LIMIT = 64 * 1024;

export async function readForm(req: Request, limit = FORM_LIMIT): Promise<URLSearchParams> {
  const type = req.headers.get('content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) throw new LtiError(400, 'expected a form post (application/x-www-form-urlencoded)');
  const tooLarge = () => new LtiError(413, `the form is larger than ${limit / 1024} KiB`);
  return new URLSearchParams(await readBody(req, limit, tooLarge));
}

/** One field, bounded; missing or too long is a 400 naming it. */
export function field(form: URLSearchParams, name: string, { max = 4096, optional = false } = {}): string | undefined {
  const value = form.get(name) ?? undefined;
  if (value === undefined || value === '') {
    if (optional) return undefined;
    throw new LtiError(400, `${name} is missing`);
  }
  if (value.length > max) throw new LtiError(400, `${name} is longer than ${max} characters`);
  return value;
}
