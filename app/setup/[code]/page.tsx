import { runtime } from '@/lib/runtime';
import { isAccountError } from '@/lib/accounts/errors';
import { readSetupLink } from '@/lib/accounts/setup-links';
import { SetupForm } from '@/components/instructor/SetupForm';
import '@/components/instructor/instructor.css';

export const dynamic = 'force-dynamic';

export default async function Setup({ params }: { params: Promise<{ code: string }> }) {
  const { code } = await params;
  const link = await readSetupLink(runtime().db, code).catch((e: unknown) => {
    if (isAccountError(e)) return e;
    throw e;
  });
  return (
    <main className="center account-page">
      <h1>Set up your Labforge account</h1>
      {isAccountError(link) ? (
        <p role="alert" className="error">
          {link.message}
        </p>
      ) : (
        <SetupForm code={code} email={link.email} role={link.role} />
      )}
    </main>
  );
}
