import { refusal } from '@/lib/lti/errors';
import { readForm } from '@/lib/lti/form';
import { launch } from '@/lib/lti/launch';
import { runtime } from '@/lib/runtime/index';

export const dynamic = 'force-dynamic';

/** The id_token from the LMS (form_post) → 303 to the session with the learner cookie, or the deep-linking picker. */
export async function POST(req: Request): Promise<Response> {
  const rt = runtime();
  try {
    return await launch(req, await readForm(req), rt);
  } catch (e) {
    return refusal(req, e, rt.log);
  }
}
