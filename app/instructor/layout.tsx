import Link from 'next/link';
import { signedIn } from '@/lib/http/instructor';
import { SignOutButton } from '@/components/instructor/SignOutButton';
import '@/components/instructor/instructor.css';

/**
 * The instructor area's frame. Each page checks the login itself (instructorForPage): a layout is
 * not re-run on every navigation, so it only decides which links to show.
 */
export default async function InstructorLayout({ children }: { children: React.ReactNode }) {
  const me = await signedIn();
  return (
    <div className="instructor">
      {me && (
        <nav className="instructor-nav" aria-label="Instructor">
          <Link href="/instructor">Live sessions</Link>
          <Link href="/instructor/invites">Invites</Link>
          {me.role === 'admin' && <Link href="/instructor/accounts">Accounts</Link>}
          <SignOutButton />
        </nav>
      )}
      {children}
    </div>
  );
}
