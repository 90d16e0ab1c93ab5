import { runtime } from '@/lib/runtime';
import { instructorForPage } from '@/lib/http/instructor';
import { listAccounts } from '@/lib/accounts/users';
import { Accounts } from '@/components/instructor/Accounts';

export const dynamic = 'force-dynamic';

/** Admins: who has an account, a setup link for a new instructor, disabling an account. */
export default async function AccountsPage() {
  const me = await instructorForPage('/instructor/accounts', 'admin');
  return (
    <main className="instructor-main">
      <h1>Accounts</h1>
      <p className="hint">A new instructor gets a one-time link that lets them choose their password. Learners need no account.</p>
      <Accounts initial={await listAccounts(runtime().db)} me={me.id} />
    </main>
  );
}
