/** `labforge lti add-platform|list|remove|config`: LMSs launching labs over LTI 1.3 (lib/lti/, docs/graders.md). */
import { loadConfig } from '../../lib/base/config';
import type { Db } from '../../lib/db/client';
import { PlatformError, platformInfo, Platforms, type Platform } from '../../lib/lti/platforms';
import { publicJwks } from '../../lib/lti/tool-keys';
import { toolUrls } from '../../lib/lti/tool-urls';
import { out, parseCommand, usageMistake } from './args';
import { openDatabase, withDatabase } from './database';

export const USAGE = `usage: labforge lti add-platform --name N --issuer URL --client-id ID --auth-login-url URL --auth-token-url URL --jwks-url URL [--deployment-id D[,D2]] [--json]
       labforge lti list [--json]
       labforge lti remove NAME
       labforge lti config [--json]`;

const OPTIONS = {
  name: { type: 'string' },
  issuer: { type: 'string' },
  'client-id': { type: 'string' },
  'auth-login-url': { type: 'string' },
  'auth-token-url': { type: 'string' },
  'jwks-url': { type: 'string' },
  'deployment-id': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

const REQUIRED = ['name', 'issuer', 'client-id', 'auth-login-url', 'auth-token-url', 'jwks-url'] as const;
const TOOL = {
  name: 'lti',
  usage: USAGE,
  options: OPTIONS,
  commands: { 'add-platform': null, list: null, remove: 'lti remove needs one platform name', config: null },
};
const usage = (message: string) => usageMistake(TOOL, message);

/** Exit codes: 0 done, 1 refused (a bad URL, a taken name), 2 a usage mistake. `open`: the database (tests pass theirs). */
export async function run(args: string[], open: () => Promise<Db> = openDatabase): Promise<number> {
  const parsed = parseCommand(TOOL, args);
  if (typeof parsed === 'number') return parsed;
  const { command, values, positionals } = parsed;
  // Needs no database: what to paste into the LMS depends only on the public URL.
  if (command === 'config') return config(values.json);
  const missing = REQUIRED.filter((k) => !values[k]);
  if (command === 'add-platform' && missing.length) return usage(`lti add-platform needs ${missing.map((k) => `--${k}`).join(', ')}`);

  return withDatabase('lti', open, PlatformError, async (db) => {
    const platforms = new Platforms(db);
    if (command === 'add-platform') {
      const p = await platforms.add({
        name: values.name!,
        issuer: values.issuer!,
        clientId: values['client-id']!,
        authLoginUrl: values['auth-login-url']!,
        authTokenUrl: values['auth-token-url']!,
        jwksUrl: values['jwks-url']!,
        deploymentIds: values['deployment-id']?.split(',').map((d) => d.trim()),
      });
      await publicJwks(db); // the tool's key exists before the LMS first asks for it
      if (values.json) out(`${JSON.stringify(platformInfo(p), null, 2)}\n`);
      else out(`Platform ${p.name} registered: ${describe(p)}.\nlabforge lti config prints what to enter in the LMS.\n`);
    } else if (command === 'list') {
      const all = await platforms.list();
      if (values.json) out(`${JSON.stringify(all.map(platformInfo), null, 2)}\n`);
      else if (!all.length) out('No LTI platforms yet: labforge lti add-platform --name moodle --issuer URL ...\n');
      else for (const p of all) out(`${p.name}  ${describe(p)}\n    login ${p.authLoginUrl}\n    token ${p.authTokenUrl}\n    keys  ${p.jwksUrl}\n`);
    } else {
      await platforms.remove(positionals[0]);
      out(`Platform ${positionals[0]} removed: its launches are refused from now on, and its pending scores are dropped.\n`);
    }
    return 0;
  });
}

function describe(p: Platform): string {
  return `issuer ${p.issuer}, client id ${p.clientId}, ${p.deploymentIds.length ? `deployments ${p.deploymentIds.join(', ')}` : 'any deployment'}`;
}

function config(json: boolean): number {
  const publicUrl = loadConfig().publicUrl;
  const urls = toolUrls(publicUrl);
  if (json) {
    out(`${JSON.stringify({ publicUrl, ...urls, redirectUris: [urls.launch, urls.deepLink] }, null, 2)}\n`);
    return 0;
  }
  out(`Register Labforge in the LMS as an LTI 1.3 tool with (from LABFORGE_PUBLIC_URL=${publicUrl}):

  Tool URL / target link URI   ${urls.launch}
  Initiate login URL           ${urls.login}
  Redirection URI(s)           ${urls.launch}
                               ${urls.deepLink}
  Public keyset URL (JWKS)     ${urls.jwks}
  Deep linking URL             ${urls.deepLink}
  Services                     Assignment and Grade Services (scores); no names or e-mail needed
  Custom parameter (optional)  lab=<lab slug>  (deep linking sets it for you)
  Launch in                    a new window

Then register the LMS here with what it shows for the tool:
  labforge lti add-platform --name moodle --issuer URL --client-id ID --auth-login-url URL --auth-token-url URL --jwks-url URL [--deployment-id D]
LTI needs Labforge on https (the launch's state cookie is SameSite=None; Secure).
`);
  return 0;
}
