import { deepLinkingChoice } from '@/lib/lti/deep-linking';
import { refusal } from '@/lib/lti/errors';
import { readForm } from '@/lib/lti/form';
import { launch } from '@/lib/lti/launch';
import { runtime } from '@/lib/runtime/index';

export const dynamic = 'force-dynamic';

/**
 * The deep-linking URL: an id_token posted here (an LMS whose content-selection URL is this one) is
 * a launch like /lti/launch; the picker's choice ({context, lab}) is answered with the signed response.
 */
export async function POST(req: Request): Promise<Response> {
  const rt = runtime();
  try {
    const form = await readForm(req);
    return form.has('id_token') ? await launch(req, form, rt) : await deepLinkingChoice(form, rt);
  } catch (e) {
    return refusal(req, e, rt.log);
  }
}
