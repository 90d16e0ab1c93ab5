import { runtime } from '@/lib/runtime';
import { handle, json } from '@/lib/api/http';

export const dynamic = 'force-dynamic';

/** GET /api/v1/health → {ok, labs, drivers: {name: problems[]}} */
export async function GET() {
  return handle(async () => {
    const rt = runtime();
    const drivers: Record<string, unknown> = {};
    for (const [name, d] of Object.entries(rt.drivers)) drivers[name] = await d.prerequisites();
    return json({ ok: true, labs: rt.catalog.list().length, drivers });
  });
}
