/**
 * `labforge new` as an author uses it, through bin/labforge.mjs on real containers: the lab it
 * writes passes `labforge lint` and `labforge test` untouched. And the first thing a new
 * author trips on: a check without a solve script. Lint warns at the check script, and
 * `labforge test` says the solve is missing instead of calling the check broken.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { formatTable, type LabTestReport } from '../../lib/authoring/labtest';

const root = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-new-docker-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function labforge(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/labforge.mjs', ...args], { cwd: root, encoding: 'utf8', timeout: 280_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

it('`labforge new demo` writes a lab that passes `labforge lint` and `labforge test` as it is', () => {
  expect(labforge('new', 'demo', '--dir', tmp).code).toBe(0);
  const dir = path.join(tmp, 'demo');
  const lint = labforge('lint', dir);
  expect(lint, lint.stdout).toMatchObject({ code: 0, stdout: '1 lab, 0 errors, 0 warnings\n' });
  const test = labforge('test', dir, '--json');
  const report = JSON.parse(test.stdout) as LabTestReport;
  expect(test.code, formatTable(report)).toBe(0);
  expect(report.challenges.map((c) => [c.slug, c.ok])).toEqual([
    ['first-file', true],
    ['send-a-message', true],
  ]);
  // The check failed before the work with the learner's message, not an exit code.
  expect(report.challenges.map((c) => c.checkFails?.message)).toEqual([
    '/root/project/hello.txt does not exist yet',
    'nothing has reached the server yet: send message.txt to port 7000 of the server',
  ]);
}, 300_000);

it('says a solve script is missing rather than that the check fails (lint, test --json, --junit, the table)', () => {
  expect(labforge('new', 'no-solve', '--dir', tmp).code).toBe(0);
  const dir = path.join(tmp, 'no-solve');
  fs.rmSync(path.join(dir, '01-first-file/solve-workstation'));

  const lint = labforge('lint', dir);
  expect(lint.code).toBe(0); // a warning: the lab still runs
  expect(lint.stdout).toContain(`${dir}/01-first-file/check-workstation:1: warning: no solve-<host> script: \`labforge test\` cannot prove the check can pass`);

  const junit = path.join(tmp, 'report.xml');
  const test = labforge('test', dir, '--json', '--junit', junit);
  const report = JSON.parse(test.stdout) as LabTestReport;
  expect(test.code).toBe(1);
  const [first] = report.challenges;
  const message = 'no solve-workstation script: cannot prove the check can pass';
  expect(first).toMatchObject({ ok: false, checkFails: { ok: true }, solve: { ok: false, missing: true, message } });
  expect(first.checkPasses).toBeUndefined(); // never run, so never reported as failing
  expect(report.challenges).toHaveLength(1);
  expect(fs.readFileSync(junit, 'utf8')).toContain(`<failure message="solve: ${message}"/>`);
  const table = formatTable(report);
  const row = table.split('\n').find((l) => l.startsWith('1  first-file'));
  expect(row).toMatch(/ok .* MISSING/);
  expect(row).not.toContain('FAILED');
  expect(table).toContain(`first-file solve: ${message}`);
  expect(table).toMatch(/no-solve: FAILED in/); // still a failure of the lab test
}, 300_000);
