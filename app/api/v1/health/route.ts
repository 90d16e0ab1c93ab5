import { runtime } from '@/lib/runtime';
import { handle, json } from '@/lib/http/route';
import { isOperatorRequest } from '@/lib/http/operator';
import { databaseHealth } from '@/lib/db/health';
import type { Problem } from '@/lib/environments/driver';
import type { Health } from '@/lib/http/api/responses';

export const dynamic = 'force-dynamic';

/**
 * GET /api/v1/health → {ok, labs}; operators also get `drivers: {name: problems[]}` (what each
 * driver is missing, host settings) and `database` (whether it can be written, why not, the last
 * fault a request met): from loopback, or with `Authorization: Bearer $LABFORGE_OPERATOR_TOKEN`.
 * Anyone else learns only whether the server is up and can save. Not ok (the database cannot be
 * written: read-only, disk full, I/O error) answers 503 with a `reason`. Its database probe is the
 * one GET /readyz uses too (lib/observability/dependencies.ts), which adds the container engine.
 */
export async function GET(req: Request) {
  return handle(async () => {
    const rt = runtime();
    const labs = rt.catalog.list().length;
    const database = rt.db ? await databaseHealth(rt.db, rt.config.databaseUrl, rt.log) : { ok: true };
    const ok = database.ok;
    const status = ok ? 200 : 503;
    if (!isOperatorRequest(req, [rt.config.operatorToken]))
      return json((ok ? { ok, labs } : { ok, labs, reason: 'the platform cannot save right now' }) satisfies Health, { status });
    const drivers: Record<string, Problem[]> = {};
    for (const [name, d] of Object.entries(rt.drivers)) drivers[name] = await d.prerequisites();
    return json({ ok, labs, ...(ok ? {} : { reason: `database: ${database.reason}` }), database, drivers } satisfies Health, { status });
  });
}
