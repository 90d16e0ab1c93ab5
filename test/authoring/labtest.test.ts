/**
 * `labforge test` on the real labs, in real containers: every challenge of
 * multicast-basics must fail its check before the work and pass after its
 * solve. And on a lab with a broken solve, the report says which step failed.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DockerDriver } from '../../lib/environments/docker';
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
    env: { ...process.env, LABFORGE_LOG_LEVEL: 'silent' },
    timeout: 540_000,
  });
  expect(cli.status, cli.stderr).toBe(0);
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
