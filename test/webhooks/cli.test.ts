/**
 * `labforge webhooks`: add (secret printed once; --json prints only the document), list with the
 * queue's state, log, remove, and refusals in words. Through bin/labforge.mjs once, as an
 * operator runs it; the rest calls the command in-process on the same kind of database.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/commands/webhooks';
import { createDb, type Db } from '../../lib/db/client';
import { fanOut } from '../../lib/webhooks/fanout';
import { captured } from '../support/cli';
import { fakeLab, started, testDb } from './support';

const ROOT = path.resolve(__dirname, '../..');
let db: Db;
let url: string;

beforeAll(async () => {
  ({ db, url } = await testDb('cli'));
});
afterAll(() => db.$disconnect());

/** Runs `labforge webhooks <args>` in-process on the test database (a client of its own: the command closes it). */
const cli = (...args: string[]) => captured(() => run(args, async () => createDb(url)));

describe('labforge webhooks', () => {
  it('add --json through bin/labforge.mjs prints only a JSON document with the id and the secret', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, 'bin/labforge.mjs'), 'webhooks', 'add', '--url', 'http://localhost:9/x', '--labs', 'multicast-basics', '--json'],
      { env: { ...process.env, DATABASE_URL: url, LABFORGE_LOG_LEVEL: 'silent' }, cwd: ROOT },
    );
    const doc = JSON.parse(stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      id: expect.stringMatching(/^wh_/),
      url: 'http://localhost:9/x',
      labs: ['multicast-basics'],
      secret: expect.stringMatching(/^whsec_/),
    });
    expect(doc.events).toEqual(['session.started', 'challenge.passed', 'challenge.failed', 'session.completed', 'session.expired']);
    expect(await cli('remove', doc.id as string)).toMatchObject({ code: 0 });
  });

  it('add, list with pending deliveries, log, remove; the secret is shown by add only', async () => {
    const added = await cli('add', '--url', 'https://grader.example.com/hook', '--all-labs', '--events', 'session.started,challenge.failed');
    expect(added.code).toBe(0);
    const [, id] = /Subscription (wh_\S+) created/.exec(added.stdout)!;
    const [secret] = /whsec_\S+/.exec(added.stdout)!;
    expect(added.stdout).toContain('all labs; events session.started, challenge.failed');

    await started(db, fakeLab('ospf-intro'));
    await fanOut(db);
    const listed = await cli('list', '--json');
    expect(listed.stdout).not.toContain(secret);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id, labs: 'all', pending: 1, givenUp: 0, last: null })]);
    expect((await cli('list')).stdout).toMatch(new RegExp(`${id} .*\\n\\s+1 pending, 0 given up; nothing sent yet`));

    const log = await cli('log', id, '--json', '--limit', '5');
    expect(JSON.parse(log.stdout)).toEqual([expect.objectContaining({ event: 'session.started', state: 'queued', attempts: 0 })]);
    expect((await cli('log', id)).stdout).toMatch(/^#\d+ +session\.started +queued +0 attempts +next /);

    expect(await cli('remove', id)).toMatchObject({ code: 0, stdout: expect.stringContaining('with its 1 logged deliveries') });
    expect(JSON.parse((await cli('list', '--json')).stdout)).toEqual([]);
  });

  it('refuses in words: bad URLs, no labs, unknown events, unknown ids; usage mistakes exit 2', async () => {
    const refused = async (args: string[], message: RegExp, code = 1) => {
      const r = await cli(...args);
      expect([r.code, r.stderr]).toEqual([code, expect.stringMatching(message)]);
      expect(r.stdout).toBe('');
    };
    await refused(['add', '--url', 'ftp://example.com/x', '--all-labs'], /must start with http:\/\/ or https:\/\//);
    await refused(['add', '--url', 'https://user:pw@example.com/x', '--all-labs'], /must not carry a user or password/);
    await refused(['add', '--url', 'https://example.com/x'], /name at least one \(--labs a,b\), or pass --all-labs/);
    await refused(['add', '--url', 'https://example.com/x', '--labs', 'Bad Lab'], /a lab is named by its slug/);
    await refused(
      ['add', '--url', 'https://example.com/x', '--all-labs', '--events', 'session.started,check'],
      /unknown event "check" \(known: session\.started/,
    );
    await refused(['log', 'wh_nope'], /no webhook subscription "wh_nope" \(labforge webhooks list shows them\)/);
    await refused(['remove', 'wh_nope'], /no webhook subscription "wh_nope"/);
    await refused(['add', '--all-labs'], /webhooks add needs --url/, 2);
    await refused(['log'], /needs one subscription id/, 2);
    await refused(['log', 'x', '--limit', 'lots'], /--limit should be a number/, 2);
    await refused(['frobnicate'], /unknown webhooks command "frobnicate"/, 2);
  });
});
