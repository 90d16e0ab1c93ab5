/**
 * `labforge new` without a container engine: what it writes lints clean for both drivers and
 * has the shape the brief promises (two challenges, every script kind, executable scripts, a
 * terminal tab, an editor tab on the second), and it refuses an existing folder (1, nothing
 * touched) and bad arguments (2). That the Docker lab also passes `labforge test` is
 * new.docker.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { run as newCommand } from '../../cli/commands/new';
import { scaffoldLab, titleOf } from '../../lib/authoring/scaffold';
import { lintLab } from '../../lib/labs/lint';
import { loadLabOrThrow } from '../../lib/labs/loader';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-new-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs the command in-process; returns its exit code and what it printed. */
async function labforgeNew(...args: string[]) {
  const out = new PassThrough();
  const err = new PassThrough();
  const code = await newCommand(args, out, err);
  return { code, stdout: String(out.read() ?? ''), stderr: String(err.read() ?? '') };
}

describe('labforge new', () => {
  it.each(['docker', 'kind'] as const)('writes a %s lab that lints without a single problem', async (driver) => {
    const r = await labforgeNew(`first-${driver}`, '--driver', driver, '--dir', tmp);
    expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
    const dir = path.join(tmp, `first-${driver}`);
    expect(r.stdout).toContain(`labforge lint ${dir}`);
    expect(await lintLab(dir)).toEqual([]);
    const lab = await loadLabOrThrow(dir);
    expect(lab.track).toMatchObject({ slug: `first-${driver}`, title: `First ${driver}`, environment: { driver } });
    expect(fs.readFileSync(path.join(dir, 'track.yml'), 'utf8')).toMatch(/^# First .*\n(#.*\n)*# What to edit next:/);
  });

  it('gives the Docker lab two base hosts and two challenges with every script kind', async () => {
    const lab = await loadLabOrThrow(path.join(tmp, 'first-docker'));
    expect(lab.track.environment.hosts.map((h) => [h.name, h.image])).toEqual([
      ['workstation', 'labforge/base'],
      ['server', 'labforge/base'],
    ]);
    expect(lab.challenges).toHaveLength(2);
    for (const c of lab.challenges) {
      expect(Object.keys(c.scripts).sort(), c.slug).toEqual(['check', 'cleanup', 'setup', 'solve']);
      for (const file of Object.values(c.scripts).flatMap((byHost) => Object.values(byHost))) {
        expect(fs.statSync(file).mode & 0o777, file).toBe(0o755);
        expect(fs.readFileSync(file, 'utf8')).toMatch(/^#!\/bin\/bash\n/);
      }
      for (const check of Object.values(c.scripts.check!)) expect(fs.readFileSync(check, 'utf8')).toMatch(/echo "FAIL: |fail-message "/);
    }
    expect(lab.challenges[0].tabs.map((t) => t.type)).toEqual(['terminal']);
    expect(lab.challenges[1].tabs.map((t) => t.type)).toEqual(['terminal', 'editor']);
  });

  it('refuses a folder that exists, and leaves it alone', async () => {
    const dir = path.join(tmp, 'taken');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const r = await labforgeNew('taken', '--dir', tmp);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${dir} already exists`);
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
  });

  it.each([
    [['Bad_Slug'], '"Bad_Slug" is not a lab slug: must be a lowercase slug'],
    [['-dash'], 'Unknown option'],
    [['two', 'slugs'], 'needs one slug'],
    [[], 'needs one slug'],
    [['ok', '--driver', 'podman'], '--driver must be docker or kind (got "podman")'],
  ])('exits 2 on bad arguments: %j', async (args, message) => {
    const r = await labforgeNew(...args, '--dir', tmp);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('creates nothing for bad arguments', () => {
    expect(fs.readdirSync(tmp).sort()).toEqual(['first-docker', 'first-kind', 'taken']);
  });
});

describe('scaffoldLab', () => {
  it('titles the lab from its slug and refuses a bad slug', () => {
    expect(titleOf('my-first-lab')).toBe('My first lab');
    expect(() => scaffoldLab('My Lab')).toThrow('"My Lab" is not a lab slug');
  });
});
