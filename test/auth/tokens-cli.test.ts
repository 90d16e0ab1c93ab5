/**
 * `labforge tokens`: create (the token printed once; --json prints only the document), list
 * (never the token), revoke, and refusals in words with their exit codes. Through
 * bin/labforge.mjs once, as an operator runs it; the rest in-process on the same database.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/commands/tokens';
import { createDb } from '../../lib/db/client';
import { captured } from '../support/cli';
import { graderHarness, type GraderHarness } from '../support/graders';

const ROOT = path.resolve(__dirname, '../..');
let h: GraderHarness;

beforeAll(async () => {
  h = await graderHarness('tokens-cli');
});
afterAll(() => h?.close());

/** Runs `labforge tokens <args>` in-process (a client of its own: the command closes it). */
const cli = (...args: string[]) => captured(() => run(args, async () => createDb(h.config.databaseUrl)));

describe('labforge tokens', () => {
  it('create --json through bin/labforge.mjs prints only a JSON document, with the token', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, 'bin/labforge.mjs'), 'tokens', 'create', '--name', 'ci', '--labs', 'multicast-basics', '--json'],
      { env: { ...process.env, DATABASE_URL: h.config.databaseUrl, LABFORGE_LOG_LEVEL: 'silent' }, cwd: ROOT },
    );
    const doc = JSON.parse(stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ name: 'ci', labs: ['multicast-basics'], terminals: false, status: 'active', token: expect.stringMatching(/^lf_/) });
    expect((await h.tokens.verify(doc.token as string)).ok).toBe(true);
  });

  it('create prints the token once; list never shows it; revoke ends it', async () => {
    const made = await cli('create', '--name', 'grader-eu', '--all-labs', '--expires', '30d', '--terminals');
    expect(made.code).toBe(0);
    const [token] = /lf_[A-Za-z0-9_-]{43}/.exec(made.stdout)!;
    expect(made.stdout).toContain('all labs; may open terminals; expires');
    expect(made.stdout).toContain('shown this once');

    const listed = await cli('list', '--json');
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(token);
    const list = JSON.parse(listed.stdout) as Array<{ name: string; labs: unknown; status: string }>;
    expect(list.find((t) => t.name === 'grader-eu')).toMatchObject({ labs: 'all', status: 'active' });
    expect((await cli('list')).stdout).toMatch(/^grader-eu\s+active\s+all labs/m);

    expect(await cli('revoke', 'grader-eu')).toMatchObject({ code: 0, stdout: expect.stringContaining('is revoked') });
    expect(await h.tokens.verify(token)).toMatchObject({ ok: false, reason: expect.stringContaining('was revoked') });
  });

  it('refuses mistakes in words: 2 for usage, 1 for what the database says no to', async () => {
    expect(await cli('create', '--name', 'x')).toMatchObject({ code: 1, stderr: expect.stringContaining('name at least one (--labs a,b)') });
    expect(await cli('create', '--labs', 'a')).toMatchObject({ code: 2, stderr: expect.stringContaining('tokens create needs --name') });
    expect(await cli('create', '--name', 'ci', '--labs', 'a')).toMatchObject({ code: 1, stderr: expect.stringContaining('already exists') });
    expect(await cli('create', '--name', 'y', '--labs', 'a', '--expires', '2 weeks')).toMatchObject({ code: 1, stderr: expect.stringContaining('e.g. 30d') });
    expect(await cli('revoke', 'nobody')).toMatchObject({ code: 1, stderr: expect.stringContaining('no token is named "nobody"') });
    expect(await cli('revoke')).toMatchObject({ code: 2, stderr: expect.stringContaining('needs the name of one token') });
    expect(await cli('rotate')).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown tokens command "rotate"') });
    expect(await cli('list', '--bogus')).toMatchObject({ code: 2 });
  });
});
