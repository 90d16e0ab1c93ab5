/**
 * `labforge dev` in-process, up to where it would start the server: usage mistakes (exit 2), and
 * what it prints after each look at the lab's files (describeStatus). The server itself runs in
 * test/authoring/dev.docker.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeStatus, run } from '../../cli/commands/dev';
import type { LiveLabStatus } from '../../lib/labs/live-catalog';
import { captured } from '../support/cli';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-dev-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

it('needs exactly one lab folder, with a track.yml, and a numeric --port', async () => {
  expect(await captured(() => run([]))).toMatchObject({ code: 2, stderr: expect.stringContaining('labforge dev needs the folder of one lab') });
  expect(await captured(() => run([tmp]))).toMatchObject({ code: 2, stderr: expect.stringContaining(`${tmp} has no track.yml: give the folder of one lab`) });
  fs.writeFileSync(path.join(tmp, 'track.yml'), 'slug: x\n');
  expect(await captured(() => run([tmp, '--port', 'abc']))).toMatchObject({ code: 2, stderr: expect.stringContaining('--port must be a number') });
  expect(await captured(() => run([tmp, '--nope']))).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--nope'") });
});

it('prints a reload, errors as file:line lines with what is still served, and the fix', () => {
  const at = new Date(2025, 0, 1, 12, 3, 4);
  const base: LiveLabStatus = { dir: '/labs/x', version: 2, loadedAt: at.toISOString(), errors: [], warnings: [] };
  const broken = { ...base, errors: ['labs/x/01-a/assignment.md:4: error: titel: unknown field'], warnings: ['labs/x/01-a/check-web:1: warning: no solve'] };
  expect(describeStatus({ ...base, version: 3 }, base, at)).toBe('12:03:04 reloaded: version 3\n');
  expect(describeStatus(broken, base, at)).toBe(
    '12:03:04 1 error: still serving version 2\nlabs/x/01-a/assignment.md:4: error: titel: unknown field\nlabs/x/01-a/check-web:1: warning: no solve\n',
  );
  expect(describeStatus({ ...base, version: 3 }, broken, at)).toBe('12:03:04 reloaded: version 3 (errors fixed)\n');
});
