'use client';
import { useRouter } from 'next/navigation';

export function SignOutButton() {
  const router = useRouter();
  return (
    <button
      type="button"
      className="ghost"
      onClick={async () => {
        await fetch('/api/instructor/logout', { method: 'POST' }).catch(() => undefined);
        router.push('/login');
        router.refresh();
      }}
    >
      Sign out
    </button>
  );
}
