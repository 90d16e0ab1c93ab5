import { runtime } from '@/lib/runtime';
import { isAccountError } from '@/lib/accounts/errors';
import { openInvite } from '@/lib/instructors/invites';
import { InviteStart } from '@/components/instructor/InviteStart';
import '@/components/instructor/instructor.css';

export const dynamic = 'force-dynamic';

/** What a learner sees when they open an invite link: the workshop's labs, their name, Start. */
export default async function Invite({ params }: { params: Promise<{ code: string }> }) {
  const { code } = await params;
  const rt = runtime();
  const invite = await openInvite(rt.db, code).catch((e: unknown) => {
    if (isAccountError(e)) return e;
    throw e;
  });
  if (isAccountError(invite))
    return (
      <main className="center">
        <h1>Invite</h1>
        <p role="alert" className="error">
          {invite.message}
        </p>
      </main>
    );
  const labs = invite.labs.flatMap((slug) => {
    const lab = rt.catalog.get(slug);
    return lab ? [{ slug, title: lab.track.title, teaser: lab.track.teaser }] : [];
  });
  return (
    <main className="lab-page">
      <p className="eyebrow">Workshop</p>
      <h1>{invite.name}</h1>
      <InviteStart code={code} labs={labs} fixedName={invite.learnerName ?? undefined} full={invite.status === 'full'} />
    </main>
  );
}
