import { runtime } from '@/lib/runtime';
import { instructorForPage } from '@/lib/http/instructor';
import { listInvites } from '@/lib/instructors/invites';
import { Invites } from '@/components/instructor/Invites';

export const dynamic = 'force-dynamic';

/** Workshops: invite links for a set of labs, with seats and expiry; each groups its learners on the dashboard. */
export default async function InvitesPage() {
  await instructorForPage('/instructor/invites');
  const rt = runtime();
  const labs = rt.catalog.list().map((l) => ({ slug: l.track.slug, title: l.track.title }));
  return (
    <main className="instructor-main">
      <h1>Invites</h1>
      <p className="hint">An invite link lets whoever opens it start its labs, under their name. The dashboard groups their sessions as one workshop.</p>
      <Invites labs={labs} initial={await listInvites(rt.db)} />
    </main>
  );
}
