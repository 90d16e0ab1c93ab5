import type { Metadata } from 'next';
import Link from 'next/link';
import { headers } from 'next/headers';
import { NONCE_HEADER } from '@/lib/http/headers';
import './globals.css';

export const metadata: Metadata = {
  title: 'Labforge',
  description: 'Hands-on technical labs with live environments, in your browser.',
};

/**
 * Next's route announcer is a live region with role "alert". Learner pages use
 * role alert for check failures only, so that "the alert" means one thing to
 * assistive technology and to tests. Next reuses an announcer it finds by name:
 * provide one up front that is an assertive live region without a role.
 */
const ANNOUNCER = `(function(){if(document.getElementsByName('next-route-announcer').length)return;var c=document.createElement('next-route-announcer');c.setAttribute('name','next-route-announcer');c.style.cssText='position:absolute';var d=document.createElement('div');d.setAttribute('aria-live','assertive');d.id='__next-route-announcer__';d.style.cssText='position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0)';c.attachShadow({mode:'open'}).appendChild(d);document.body.appendChild(c);})();`;

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // server.ts sets this request's CSP nonce (lib/http/headers.ts); Next puts it on its own scripts.
  const nonce = (await headers()).get(NONCE_HEADER) ?? undefined;
  return (
    <html lang="en">
      <body>
        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: ANNOUNCER }} />
        <header className="topbar">
          <Link href="/" className="brand">
            <span className="brand-mark" aria-hidden>
              ⚒
            </span>
            Labforge
          </Link>
          <nav aria-label="Main">
            <Link href="/">Labs</Link>
            <Link href="/api">API</Link>
            <Link href="/instructor">Instructors</Link>
          </nav>
        </header>
        {children}
      </body>
    </html>
  );
}
