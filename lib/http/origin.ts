/**
 * Which browser origins may act on the platform: one rule for state-changing API calls, terminal
 * upgrades and service-tab WebSockets (browsers apply no same-origin rule to WebSockets, and
 * cookies ride along on cross-site requests). Each caller states its policy for the two special
 * cases; the comparison is always the same: normalised origins (scheme://host[:port]).
 */
export interface OriginPolicy {
  /** Origins allowed besides `self` (LABFORGE_PUBLIC_URL and friends). */
  allowed: readonly string[];
  /** The origin the request itself was made to, if it counts as allowed. */
  self?: string;
  /** No Origin header: a non-browser client (CLI, grader), or a browser's same-origin GET. */
  missing: 'allow' | 'refuse';
  /** `Origin: null`: an opaque origin, e.g. a sandboxed service-tab page. Default: refuse. */
  opaque?: 'allow' | 'refuse';
}

/** "http://Host:80/x" → "http://host"; anything that is not a URL → null. */
export function normalizeOrigin(o: string): string | null {
  try {
    return new URL(o).origin;
  } catch {
    return null;
  }
}

export function originAllowed(origin: string | null | undefined, policy: OriginPolicy): boolean {
  if (!origin) return policy.missing === 'allow';
  if (origin === 'null') return policy.opaque === 'allow';
  const o = normalizeOrigin(origin);
  if (!o) return false;
  if (policy.self !== undefined && o === normalizeOrigin(policy.self)) return true;
  return policy.allowed.some((a) => normalizeOrigin(a) === o);
}
