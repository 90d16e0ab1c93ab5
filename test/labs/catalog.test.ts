import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabCatalog } from '../../lib/labs/catalog';

const FIX = 'test/fixtures/labs';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-catalog-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const copy = (fixture: string, as: string) => fs.cpSync(path.join(FIX, fixture), path.join(tmp, as), { recursive: true });

describe('LabCatalog', () => {
  it('offers labs that load, skips broken ones, and picks up changes on reload', async () => {
    copy('good', 'good');
    copy('unknown-key', 'broken');
    const catalog = new LabCatalog(tmp);
    expect(catalog.list()).toEqual([]); // nothing before load()
    await catalog.load();
    expect(catalog.list().map((l) => l.track.slug)).toEqual(['good-docker']);
    expect(catalog.get('good-docker')?.challenges).toHaveLength(3);
    expect(catalog.get('unknown-key')).toBeUndefined();
    expect(catalog.broken().map((b) => [path.basename(b.dir), b.problems[0].line, b.problems[0].message])).toEqual([
      ['broken', 3, 'timelimt: unknown field "timelimt" (did you mean "timelimit"?)'],
    ]);

    // Fix the broken lab, add a copy with the same slug as an existing one.
    const track = path.join(tmp, 'broken', 'track.yml');
    fs.writeFileSync(track, fs.readFileSync(track, 'utf8').replace('timelimt', 'timelimit'));
    copy('good', 'good-again');
    await catalog.reload();
    expect(catalog.list().map((l) => l.track.slug)).toEqual(['unknown-key', 'good-docker']); // folder order: broken, good
    expect(catalog.broken().map((b) => [path.basename(b.dir), b.problems[0].message])).toEqual([
      ['good-again', `track slug "good-docker" is already used by ${path.join(tmp, 'good')}`],
    ]);
  });

  it('loads nothing from a missing folder, without throwing', async () => {
    const catalog = new LabCatalog(path.join(tmp, 'nope'));
    await catalog.load();
    expect(catalog.list()).toEqual([]);
    expect(catalog.broken()[0].problems[0].message).toBe('labs folder not found or not readable');
  });
});
