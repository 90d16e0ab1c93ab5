import type { Metadata } from 'next';
import Link from 'next/link';
import './globals.css';

export const metadata: Metadata = {
  title: 'Labforge',
  description: 'Hands-on technical labs with live environments, in your browser.',
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <Link href="/" className="brand">
            <span className="brand-mark" aria-hidden>
              ⚒
            </span>
            Labforge
          </Link>
          <nav aria-label="Main">
            <Link href="/">Labs</Link>
            <a href="/docs/api">API</a>
          </nav>
        </header>
        {children}
      </body>
    </html>
  );
}
