import { runtime } from '@/lib/runtime';
import { handle, json } from '@/lib/http/route';
import type { LabSummary } from '@/lib/http/api/responses';

export const dynamic = 'force-dynamic';

/** GET /api/v1/labs → [{slug, title, driver, challenges, ...}] */
export async function GET() {
  return handle(async () =>
    json(
      runtime()
        .catalog.list()
        .map((lab): LabSummary => ({
          slug: lab.track.slug,
          title: lab.track.title,
          teaser: lab.track.teaser,
          level: lab.track.level,
          tags: lab.track.tags,
          driver: lab.track.environment.driver,
          timelimit: lab.track.timelimit,
          challenges: lab.challenges.map((c) => ({ slug: c.slug, title: c.title, type: c.type })),
        })),
    ),
  );
}
