/**
 * The catalog of `labforge dev` (lib/labs/live-catalog.ts): one lab folder, loaded again on
 * demand; a version with errors leaves the last good one served, scripts included (they are
 * copied aside per version); a change open sessions cannot follow (slug, challenge list) is
 * refused like an error. Real folders on disk, no engine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveCatalog, type LiveLabStatus } from '../../lib/labs/live-catalog';
import { makeLab, MINIMAL, removeLabs } from './tmp-lab';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-live-'));
afterAll(() => {
  removeLabs();
  fs.rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
function live(changes = {}) {
  const dir = makeLab(changes);
  const catalog = new LiveCatalog(dir, { scriptsDir: path.join(tmp, `scripts-${++n}`), keepVersions: 2 });
  const heard: LiveLabStatus[] = [];
  catalog.onChange((s) => heard.push(s));
  const write = (rel: string, text: string) => fs.writeFileSync(path.join(dir, rel), text);
  const served = () => catalog.get('tmp-lab')!;
  const checkText = () => fs.readFileSync(served().challenges[0].scripts.check!.workstation, 'utf8');
  return { dir, catalog, heard, write, served, checkText };
}

const ASSIGNMENT = MINIMAL['01-first/assignment.md'] as string;

describe('LiveCatalog', () => {
  it('serves the lab with its scripts copied per version, and each good edit as a new version', async () => {
    const l = live();
    await l.catalog.load();
    expect(l.catalog.status()).toMatchObject({ dir: l.dir, version: 1, errors: [], warnings: [] });
    expect(l.served().challenges[0].scripts.check!.workstation).toBe(path.join(tmp, 'scripts-1', '1', '01-first', 'check-workstation'));
    expect(l.checkText()).toBe('#!/bin/bash\nexit 0\n');

    l.write('01-first/check-workstation', '#!/bin/bash\necho "FAIL: version two"\n');
    l.write('01-first/assignment.md', ASSIGNMENT.replace('Do the thing.', 'Do the other thing.'));
    await l.catalog.reload();
    expect(l.catalog.status()).toMatchObject({ version: 2, errors: [] });
    expect(l.served().challenges[0].body).toContain('Do the other thing.');
    expect(l.checkText()).toContain('FAIL: version two');
    expect(l.heard.map((s) => s.version)).toEqual([1, 2]);

    await l.catalog.reload();
    // The newest `keepVersions` stay (a session provisioning or a Check under way uses its own); older ones go.
    expect(fs.readdirSync(path.join(tmp, 'scripts-1')).sort()).toEqual(['2', '3']);
    await l.catalog.dispose();
    expect(fs.existsSync(path.join(tmp, 'scripts-1'))).toBe(false);
  });

  it('keeps serving the last good version, scripts too, while the files have errors; then takes the fix', async () => {
    const l = live();
    await l.catalog.load();
    l.write('01-first/check-workstation', '#!/bin/bash\necho "FAIL: not served yet"\n');
    l.write('01-first/assignment.md', ASSIGNMENT.replace('title: First step', 'title: First step\ntitel: typo').replace('Do the thing.', 'New text.'));
    await l.catalog.reload();

    const status = l.catalog.status()!;
    expect(status.version).toBe(1);
    expect(status.errors).toHaveLength(1);
    expect(status.errors[0]).toMatch(new RegExp(`^${l.dir}/01-first/assignment.md:4: error: titel: unknown field`));
    expect(l.served().challenges[0].body).toContain('Do the thing.');
    expect(l.checkText()).toBe('#!/bin/bash\nexit 0\n');
    expect(l.catalog.broken()).toEqual([{ dir: l.dir, problems: [expect.objectContaining({ line: 4, severity: 'error' })] }]);
    expect(l.heard.map((s) => [s.version, s.errors.length])).toEqual([
      [1, 0],
      [1, 1],
    ]);

    l.write('01-first/assignment.md', ASSIGNMENT.replace('Do the thing.', 'New text.'));
    await l.catalog.reload();
    expect(l.catalog.status()).toMatchObject({ version: 2, errors: [] });
    expect(l.served().challenges[0].body).toContain('New text.');
    expect(l.checkText()).toContain('FAIL: not served yet');
    expect(l.catalog.broken()).toEqual([]);
  });

  it('refuses a challenge added, removed or renamed, and a new slug: open sessions could not follow', async () => {
    const l = live();
    await l.catalog.load();
    fs.mkdirSync(path.join(l.dir, '02-second'));
    l.write('02-second/assignment.md', '---\nslug: second\ntitle: Second\n---\nMore.\n');
    await l.catalog.reload();
    expect(l.catalog.status()!.errors).toEqual([
      `${l.dir}/02-second/assignment.md:1: error: the challenges changed (now first, second; served: first): open sessions cannot follow; stop them and restart \`labforge dev\``,
    ]);
    expect(l.served().challenges).toHaveLength(1);
    fs.rmSync(path.join(l.dir, '02-second'), { recursive: true });

    l.write('track.yml', (MINIMAL['track.yml'] as string).replace('slug: tmp-lab', 'slug: renamed-lab'));
    await l.catalog.reload();
    expect(l.catalog.status()!.errors).toEqual([
      `${l.dir}/track.yml:1: error: the slug changed from "tmp-lab" to "renamed-lab": restart \`labforge dev\` to serve the lab under its new slug`,
    ]);
    expect(l.catalog.list().map((lab) => lab.track.slug)).toEqual(['tmp-lab']);
    expect(l.catalog.statusOf('renamed-lab')).toBeUndefined();
    expect(l.catalog.statusOf('tmp-lab')?.version).toBe(1);
  });

  it('serves nothing when the first load has errors, and says why', async () => {
    const l = live({ 'track.yml': 'slug: tmp-lab\ntitle: Broken\n' });
    await l.catalog.load();
    expect(l.catalog.status()).toBeUndefined();
    expect(l.catalog.list()).toEqual([]);
    expect(l.heard).toEqual([]);
    expect(l.catalog.broken()[0].problems.some((p) => p.severity === 'error')).toBe(true);
  });

  it('runs overlapping loads one after the other', async () => {
    const l = live();
    await Promise.all([l.catalog.load(), l.catalog.reload(), l.catalog.reload()]);
    expect(l.heard.map((s) => s.version)).toEqual([1, 2, 3]);
  });
});
