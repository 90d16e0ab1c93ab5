import { redirect } from 'next/navigation';
import { signedIn } from '@/lib/http/instructor';
import { LoginForm } from '@/components/instructor/LoginForm';
import { safeNext } from '@/components/instructor/safe-next';
import '@/components/instructor/instructor.css';

export const dynamic = 'force-dynamic';

export default async function Login({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const { next } = await searchParams;
  if (await signedIn()) redirect(safeNext(next));
  return (
    <main className="center account-page">
      <h1>Instructor sign-in</h1>
      <p className="hint">Learners need no account: they open a lab, or the invite link their instructor shared.</p>
      <LoginForm next={next} />
    </main>
  );
}
