/**
 * `labforge import instruqt` on a real engine: the fixture track imports through the CLI with
 * its images checked against the local engine (both map to labforge/base, which is built), the
 * lab lints without an error, and `labforge test`'s walk (labtest.ts) passes every challenge:
 * each check fails before its solve with the message the track's fail-message gave, and passes
 * after. The engine probe also reports an image it cannot pull.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineProbe } from '../../cli/commands/import';
import { formatTable, testLab } from '../../lib/authoring/labtest';
import type { ImportReport } from '../../lib/authoring/instruqt';
import { DockerDriver } from '../../lib/environments/docker/driver';
import { ImageBuilder } from '../../lib/environments/images/build';
import { lintLab } from '../../lib/labs/lint';
import { loadLabOrThrow } from '../../lib/labs/loader';
import { requireEngine } from '../support/docker';

const root = path.resolve(__dirname, '../..');
const driver = new DockerDriver({ instance: `instruqt-${process.pid}` });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-instruqt-docker-'));

beforeAll(async () => {
  await requireEngine();
  // The imported hosts run labforge/base: build it first (a no-op where it is built), as a session would.
  await new ImageBuilder().ensure('labforge/base');
}, 600_000);

afterAll(async () => {
  for (const env of await driver.list()) await driver.destroyOwner(env.owner);
  fs.rmSync(tmp, { recursive: true, force: true });
});

it('imports the fixture track into a lab that lints clean and passes `labforge test`', async () => {
  const out = path.join(tmp, 'lighthouse');
  const cli = spawnSync(process.execPath, ['bin/labforge.mjs', 'import', 'instruqt', 'test/fixtures/instruqt/lighthouse', '--out', out, '--json'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(cli.status, cli.stderr).toBe(0);
  const report = JSON.parse(cli.stdout) as ImportReport;
  expect(report.images.map((i) => [i.host, i.image, i.runs, i.status])).toEqual([
    ['keeper', 'gcr.io/instruqt/cloud-client', 'labforge/base', 'mapped'],
    ['beacon', 'ubuntu:22.04', 'labforge/base', 'mapped'],
  ]);
  // The engine answered and labforge/base is built: nothing about images but the two mappings.
  expect(report.problems.filter((p) => /engine did not answer|not built/.test(p.message))).toEqual([]);

  expect((await lintLab(out)).filter((p) => p.severity === 'error')).toEqual([]);

  const lab = await loadLabOrThrow(out);
  const result = await testLab(lab, driver);
  expect(result.ok, formatTable(result)).toBe(true);
  expect(result.challenges.map((c) => [c.slug, c.ok])).toEqual([
    ['light-the-lamp', true],
    ['signal-the-beacon', true],
    ['night-quiz', true],
    ['log-the-night', true],
  ]);
  // Before the solve, each check failed with the learner's message from the track's fail-message.
  expect(result.challenges.map((c) => c.checkFails?.message)).toEqual([
    "The lamp is still off: set 'state: on' in /root/lamp.conf.",
    'Nothing has reached the beacon yet: send SOS to port 9000 of the beacon.',
    expect.any(String), // the quiz: a wrong answer
    "There is no /root/logbook/night.txt yet: the night's entry goes there.",
  ]);
}, 300_000);

it('reports, through the engine, an image it neither has nor can pull (this machine has no registry)', async () => {
  const probe = engineProbe(new ImageBuilder());
  expect(await probe.check('labforge/base')).toEqual({ status: 'present' });
  const missing = await probe.check('labforge-test/never-built:none');
  expect(missing).toMatchObject({ status: 'missing', reason: expect.any(String) });
}, 120_000);
