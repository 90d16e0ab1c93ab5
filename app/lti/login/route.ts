import { refusal } from '@/lib/lti/errors';
import { loginInitiation } from '@/lib/lti/login';
import { runtime } from '@/lib/runtime/index';

export const dynamic = 'force-dynamic';

/** OIDC login initiation from an LMS (GET or form POST) → 302 to the platform's auth URL with state and nonce. */
async function handle(req: Request): Promise<Response> {
  const rt = runtime();
  try {
    return await loginInitiation(req, rt);
  } catch (e) {
    return refusal(req, e, rt.log);
  }
}

export const GET = handle;
export const POST = handle;
