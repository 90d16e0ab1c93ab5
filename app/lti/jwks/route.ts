import { publicJwks } from '@/lib/lti/tool-keys';
import { runtime } from '@/lib/runtime/index';

export const dynamic = 'force-dynamic';

/** The tool's public keys (JWKS), which LMSs use to verify deep-linking answers and client assertions. */
export async function GET(): Promise<Response> {
  const rt = runtime();
  try {
    return Response.json(await publicJwks(rt.db), { headers: { 'cache-control': 'public, max-age=300' } });
  } catch (e) {
    rt.log.error({ module: 'lti', err: (e as Error).message }, 'JWKS failed');
    return Response.json({ error: 'the key set is not available just now' }, { status: 503 });
  }
}
