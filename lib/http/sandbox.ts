/**
 * What a service tab's page may do: run scripts, submit forms, open popups (sandboxed too), in an
 * opaque origin: never `allow-same-origin`, which would hand it the platform's cookies and API.
 * The iframe's `sandbox` attribute (components/TabPanels.tsx) and the proxy's CSP (lib/http/headers.ts).
 * No imports: the browser bundle uses it.
 */
export const SERVICE_SANDBOX = 'allow-scripts allow-forms allow-popups';
