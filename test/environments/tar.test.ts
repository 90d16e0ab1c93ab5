/** The tar writer/reader against GNU tar, the reference implementation on this machine. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packTar, unpackTar } from '../../lib/environments/tar';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'lf-tar-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const longName = `${'deep/'.repeat(30)}file-with-a-long-name-ü.txt`;

describe('packTar', () => {
  it('writes archives GNU tar extracts exactly: modes, binary content, long names, symlinks', () => {
    const blob = randomBytes(70_000);
    const tar = packTar([
      { name: 'bin', type: 'dir', mode: 0o750 },
      { name: 'bin/run', type: 'file', mode: 0o755, content: Buffer.from('#!/bin/sh\n') },
      { name: 'blob.bin', type: 'file', mode: 0o600, content: blob },
      { name: 'empty', type: 'file', mode: 0o644 },
      { name: longName, type: 'file', mode: 0o644, content: Buffer.from('long') },
      { name: 'link', type: 'symlink', mode: 0o777, linkname: 'bin/run' },
    ]);
    expect(tar.length % 512).toBe(0);
    const d = tmp();
    writeFileSync(path.join(d, 'a.tar'), tar);
    mkdirSync(path.join(d, 'out'));
    execFileSync('tar', ['-xf', path.join(d, 'a.tar'), '-C', path.join(d, 'out')]);
    const out = (p: string) => path.join(d, 'out', p);
    expect(statSync(out('bin')).mode & 0o777).toBe(0o750);
    expect(statSync(out('bin/run')).mode & 0o777).toBe(0o755);
    expect(readFileSync(out('blob.bin')).equals(blob)).toBe(true);
    expect(readFileSync(out('empty')).length).toBe(0);
    expect(readFileSync(out(longName), 'utf8')).toBe('long');
    expect(readFileSync(out('link'), 'utf8')).toBe('#!/bin/sh\n');
  });
});

describe('unpackTar', () => {
  it('reads what GNU tar writes, including long names and symlinks', () => {
    const d = tmp();
    const src = path.join(d, 'src');
    mkdirSync(path.join(src, path.dirname(longName)), { recursive: true });
    writeFileSync(path.join(src, longName), 'deep');
    const blob = randomBytes(1025);
    writeFileSync(path.join(src, 'blob'), blob);
    symlinkSync('blob', path.join(src, 'ln'));
    for (const format of ['gnu', 'pax']) {
      const tar = execFileSync('tar', [`--format=${format}`, '-C', src, '-cf', '-', 'blob', 'ln', longName]);
      const entries = unpackTar(tar);
      expect(entries.map((e) => [e.name, e.type])).toEqual([
        ['blob', 'file'],
        ['ln', 'symlink'],
        [longName, 'file'],
      ]);
      expect(entries[0].content.equals(blob)).toBe(true);
      expect(entries[1].linkname).toBe('blob');
      expect(entries[2].content.toString()).toBe('deep');
    }
  });

  it('round-trips its own archives', () => {
    const content = randomBytes(513);
    const [e] = unpackTar(packTar([{ name: 'x', type: 'file', mode: 0o640, content }]));
    expect(e).toMatchObject({ name: 'x', type: 'file', mode: 0o640, size: 513 });
    expect(e.content.equals(content)).toBe(true);
  });
});
