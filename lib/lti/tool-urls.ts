/** Where an LMS reaches this tool, from the server's public URL (LABFORGE_PUBLIC_URL). */
export function toolUrls(publicUrl: string) {
  const base = publicUrl.replace(/\/$/, '');
  return {
    login: `${base}/lti/login`,
    launch: `${base}/lti/launch`,
    deepLink: `${base}/lti/deep-link`,
    jwks: `${base}/lti/jwks`,
  };
}
export type ToolUrls = ReturnType<typeof toolUrls>;
