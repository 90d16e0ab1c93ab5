import { handle, json } from '@/lib/http/route';
import { openApiDocument } from '@/lib/http/openapi';

export const dynamic = 'force-dynamic';

/** GET /api/v1/openapi.json → the OpenAPI 3.1 document of this API; the same for everyone, so caches may keep it a while. */
export async function GET() {
  return handle(async () => json(openApiDocument(), { headers: { 'cache-control': 'public, max-age=300' } }));
}
