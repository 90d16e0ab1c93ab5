/** `labforge lti`: registering, listing and removing LMSs, and what `config` tells the operator to paste into the LMS. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/commands/lti';
import { createDb, type Db } from '../../lib/db/client';
import { captured } from '../support/cli';
import { testDb } from '../webhooks/support';

let url: string;
let db: Db;
const open = async () => createDb(url);
const lti = (...args: string[]) => captured(() => run(args, open));

beforeAll(async () => {
  ({ url, db } = await testDb('lti-cli'));
});
afterAll(() => db?.$disconnect());

const ADD = [
  'add-platform',
  '--name',
  'moodle',
  '--issuer',
  'https://moodle.example.org/',
  '--client-id',
  'abc123',
  '--auth-login-url',
  'https://moodle.example.org/mod/lti/auth.php',
  '--auth-token-url',
  'https://moodle.example.org/mod/lti/token.php',
  '--jwks-url',
  'https://moodle.example.org/mod/lti/certs.php',
  '--deployment-id',
  '1,2',
];

describe('labforge lti', () => {
  it('adds a platform (and the tool key), lists it without its secret, removes it', async () => {
    const added = await lti(...ADD);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).toContain('Platform moodle registered: issuer https://moodle.example.org, client id abc123, deployments 1, 2.');
    const key = await db.ltiKey.findFirstOrThrow();
    const listed = await lti('list', '--json');
    const [p] = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(p).toMatchObject({ name: 'moodle', issuer: 'https://moodle.example.org', clientId: 'abc123', deploymentIds: ['1', '2'] });
    expect(p).not.toHaveProperty('secret');
    expect(listed.stdout).not.toContain(JSON.parse(key.privateJwk).d);
    expect((await lti(...ADD)).stderr).toBe('labforge lti: a platform named "moodle" already exists\n');
    expect(await lti('remove', 'moodle')).toMatchObject({ code: 0 });
    expect((await lti('list')).stdout).toMatch(/^No LTI platforms yet/);
    expect(await lti('remove', 'moodle')).toMatchObject({ code: 1, stderr: 'labforge lti: no platform is named "moodle" (labforge lti list shows them)\n' });
  });

  it('refuses bad input in words: a bad URL exits 1, usage mistakes exit 2', async () => {
    const bad = await lti(...ADD.map((a) => (a === 'https://moodle.example.org/mod/lti/certs.php' ? 'ftp://x' : a)));
    expect(bad).toMatchObject({ code: 1, stderr: 'labforge lti: jwksUrl: --jwks-url must be an http(s) URL\n' });
    expect((await lti('add-platform', '--name', 'x')).stderr).toMatch(/^labforge lti: lti add-platform needs --issuer, --client-id/);
    expect((await lti('frobnicate')).code).toBe(2);
    expect((await lti('remove')).code).toBe(2);
  });

  it('config prints the URLs for the LMS from LABFORGE_PUBLIC_URL, without a database', async () => {
    vi.stubEnv('LABFORGE_PUBLIC_URL', 'https://labs.example.org');
    try {
      const out = await captured(() => run(['config', '--json'], () => Promise.reject(new Error('no database needed'))));
      expect(JSON.parse(out.stdout)).toEqual({
        publicUrl: 'https://labs.example.org',
        login: 'https://labs.example.org/lti/login',
        launch: 'https://labs.example.org/lti/launch',
        deepLink: 'https://labs.example.org/lti/deep-link',
        jwks: 'https://labs.example.org/lti/jwks',
        redirectUris: ['https://labs.example.org/lti/launch', 'https://labs.example.org/lti/deep-link'],
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
