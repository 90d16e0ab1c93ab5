/** A `next=` target for after sign-in: a path on this site only (never `//host` or a scheme), else the dashboard. */
export function safeNext(next: string | null | undefined): string {
  return next && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/instructor';
}
