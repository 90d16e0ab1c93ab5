/**
 * `labforge test` on the real labs, in real containers: every challenge of
 * multicast-basics must fail its check before the work and pass after its
 * solve. On a lab with a broken solve, the report says which step failed.
 * Cleanup scripts run after each passing check (as they do in sessions), and
 * a failing one fails its challenge.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DockerDriver } from '../../lib/environments/docker/driver';
import type { Environment } from '../../lib/environments/driver';
import { loadLabOrThrow } from '../../lib/labs/loader';
import { formatTable, testLab, toJunit, type LabTestReport } from '../../lib/authoring/labtest';

const root = path.resolve(__dirname, '../..');
const driver = new DockerDriver({ instance: `labtest-${process.pid}` });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-labtest-'));

afterAll(async () => {
  for (const env of await driver.list()) await driver.destroyOwner(env.owner);
  fs.rmSync(tmp, { recursive: true, force: true });
});

it('`labforge test labs/multicast-basics` passes every challenge', async () => {
  const lab = await loadLabOrThrow(path.join(root, 'labs/multicast-basics'));
  const junit = path.join(tmp, 'report.xml');
  const cli = spawnSync(process.execPath, ['bin/labforge.mjs', 'test', 'labs/multicast-basics', '--json', '--junit', junit], {
    cwd: root,
    encoding: 'utf8',
    // Logs on: they must go to stderr, so stdout is the JSON document alone (`… --json | jq`).
    env: { ...process.env, LABFORGE_LOG_LEVEL: 'info' },
    timeout: 540_000,
  });
  expect(cli.status, cli.stderr).toBe(0);
  expect(cli.stderr).toContain('"msg":"environment created"');
  const report = JSON.parse(cli.stdout) as LabTestReport;
  expect(report.ok, formatTable(report)).toBe(true);
  expect(report.challenges.map((c) => c.slug)).toEqual(lab.challenges.map((c) => c.slug));
  for (const c of report.challenges) {
    expect(c.checkFails?.ok, `${c.slug}: check must fail before the work`).toBe(true);
    expect(c.checkPasses?.ok, `${c.slug}: check must pass after solve`).toBe(true);
  }
  expect(fs.readFileSync(junit, 'utf8')).toContain(`tests="${lab.challenges.length}" failures="0"`);
}, 600_000);

it('reports the failing step of a lab whose solve does not solve', async () => {
  const dir = path.join(tmp, 'broken');
  fs.cpSync(path.join(root, 'test/fixtures/labs/good'), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, '01-meet-the-hosts/solve-workstation'), '#!/bin/bash\necho "forgot to touch /root/seen"\n');
  const lab = await loadLabOrThrow(dir);
  const report = await testLab(lab, driver);
  expect(report.ok).toBe(false);
  const first = report.challenges[0];
  expect(first.checkFails?.ok).toBe(true);
  expect(first.solve?.ok).toBe(true);
  expect(first.checkPasses).toMatchObject({ ok: false, message: '/root/seen does not exist yet' });
  expect(report.challenges).toHaveLength(1); // later challenges build on this one: not run
  expect(formatTable(report)).toContain('meet-the-hosts checkPasses: /root/seen does not exist yet');
  expect(toJunit(report)).toContain('<failure message="checkPasses: /root/seen does not exist yet"/>');
}, 300_000);

/** testLab destroys its environment before returning: this driver reads the cleanup marker first. */
class PeekingDriver extends DockerDriver {
  cleanups?: string;
  override async destroy(env: Environment) {
    const marker = await this.readFile(env, 'workstation', '/root/cleanups').catch(() => undefined);
    this.cleanups = marker?.toString();
    return super.destroy(env);
  }
}

// test/fixtures/walk-lab: each challenge's cleanup-workstation appends its slug to /root/cleanups.
const WALK = path.join(root, 'test/fixtures/walk-lab');

it("runs each challenge's cleanup scripts, in order, after its check passes", async () => {
  const peek = new PeekingDriver({ instance: `labtest-${process.pid}` });
  const report = await testLab(await loadLabOrThrow(WALK), peek);
  expect(report.ok, formatTable(report)).toBe(true);
  expect(report.challenges.map((c) => c.cleanup?.ok)).toEqual([true, true, true]);
  expect(peek.cleanups).toBe('first\nsecond\nthird\n');
  expect(formatTable(report).split('\n')[0]).toMatch(/check passes\s+cleanup$/);
}, 300_000);

it('fails a challenge whose cleanup fails, and says so', async () => {
  const dir = path.join(tmp, 'bad-cleanup');
  fs.cpSync(WALK, dir, { recursive: true });
  fs.writeFileSync(path.join(dir, '02-second/cleanup-workstation'), '#!/bin/bash\necho "FAIL: could not stop the web server"\nexit 1\n');
  const report = await testLab(await loadLabOrThrow(dir), driver);
  expect(report.ok).toBe(false);
  expect(report.challenges[0].ok).toBe(true);
  const second = report.challenges[1];
  expect(second.checkPasses?.ok).toBe(true);
  expect(second).toMatchObject({ ok: false, cleanup: { ok: false, message: 'could not stop the web server' } });
  expect(report.challenges).toHaveLength(2); // later challenges build on this one: not run
  expect(formatTable(report)).toContain('second cleanup: could not stop the web server');
  expect(toJunit(report)).toContain('<failure message="cleanup: could not stop the web server"/>');
}, 300_000);
