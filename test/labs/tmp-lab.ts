/**
 * Builds throw-away lab folders for the cases that are easier to state as a
 * diff from a minimal valid lab than as a checked-in fixture (file modes,
 * symlinks, many small variations). Not a test file itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type FileSpec = string | { text: string; mode?: number } | { symlink: string } | null;

export const MINIMAL: Record<string, FileSpec> = {
  'track.yml': [
    'slug: tmp-lab',
    'title: Temporary lab',
    'environment:',
    '  driver: docker',
    '  hosts:',
    '    - name: workstation',
    '      image: labforge/base:dev',
    '',
  ].join('\n'),
  '01-first/assignment.md': ['---', 'slug: first', 'title: First step', '---', '', 'Do the thing.', ''].join('\n'),
  '01-first/check-workstation': { text: '#!/bin/bash\nexit 0\n', mode: 0o755 },
  '01-first/solve-workstation': { text: '#!/bin/bash\nexit 0\n', mode: 0o755 },
};

const made: string[] = [];

/** A lab folder in the temp dir: MINIMAL with `changes` applied (null deletes a file). */
export function makeLab(changes: Record<string, FileSpec> = {}, base = MINIMAL): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-lint-'));
  made.push(root);
  for (const [rel, spec] of Object.entries({ ...base, ...changes })) {
    if (spec === null) continue;
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (typeof spec === 'string') fs.writeFileSync(file, spec, { mode: 0o644 });
    else if ('symlink' in spec) fs.symlinkSync(spec.symlink, file);
    else {
      fs.writeFileSync(file, spec.text);
      fs.chmodSync(file, spec.mode ?? 0o644); // not left to the umask
    }
  }
  return root;
}

export function removeLabs(): void {
  for (const root of made.splice(0)) fs.rmSync(root, { recursive: true, force: true });
}
