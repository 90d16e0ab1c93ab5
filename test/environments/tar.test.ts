/** The tar writer and the streaming first-entry reader against GNU tar, the reference implementation on this machine. */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { packTar, readFirstEntry, TarLimitError } from '../../lib/environments/docker/tar';

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

describe('readFirstEntry (tar-stream)', () => {
  const first = (tar: Buffer, max = 1024 * 1024) => readFirstEntry(Readable.from([tar]), max);

  it('reads what GNU tar writes, including long names and symlinks', async () => {
    const d = tmp();
    const src = path.join(d, 'src');
    mkdirSync(path.join(src, path.dirname(longName)), { recursive: true });
    writeFileSync(path.join(src, longName), 'deep');
    const blob = randomBytes(1025);
    writeFileSync(path.join(src, 'blob'), blob);
    symlinkSync('blob', path.join(src, 'ln'));
    for (const format of ['gnu', 'pax']) {
      const tar = (name: string) => execFileSync('tar', [`--format=${format}`, '-C', src, '-cf', '-', name]);
      const blobEntry = await first(tar('blob'));
      expect(blobEntry).toMatchObject({ name: 'blob', type: 'file', size: 1025 });
      expect(blobEntry?.content?.equals(blob)).toBe(true);
      expect(await first(tar('ln'))).toEqual({ name: 'ln', type: 'symlink', size: 0, linkname: 'blob' });
      const deep = await first(tar(longName));
      expect(deep).toMatchObject({ name: longName, type: 'file' });
      expect(deep?.content?.toString()).toBe('deep');
    }
  });

  it('gives directories, FIFOs and devices as a header only, and undefined for an empty archive', async () => {
    const d = tmp();
    mkdirSync(path.join(d, 'dir'));
    execFileSync('mkfifo', [path.join(d, 'fifo')]);
    const tar = (name: string) => execFileSync('tar', ['-C', d, '-cf', '-', '--no-recursion', name]);
    expect(await first(tar('dir'))).toMatchObject({ name: 'dir/', type: 'directory' });
    const fifo = await first(tar('fifo'));
    expect(fifo).toMatchObject({ name: 'fifo', type: 'fifo' });
    expect(fifo).not.toHaveProperty('content');
    expect(await first(execFileSync('tar', ['-cf', '-', '-C', '/', '--no-recursion', 'dev/null']))).toMatchObject({ type: 'character-device' });
    expect(await first(Buffer.alloc(1024))).toBeUndefined();
  });

  it('refuses a file over the limit from its header, before reading its content, and stops the source', async () => {
    const d = tmp();
    // 3 GiB sparse: GNU tar would take a while to stream it; the header alone must decide.
    execFileSync('truncate', ['-s', '3G', path.join(d, 'big')]);
    const child = spawn('tar', ['-C', d, '-cf', '-', 'big']);
    const started = Date.now();
    const err = await readFirstEntry(child.stdout, 1024 * 1024).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TarLimitError);
    expect(err).toMatchObject({ size: 3 * 1024 ** 3, limit: 1024 * 1024 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(child.stdout.destroyed).toBe(true);
    child.kill();
  });

  it('round-trips its own archives', async () => {
    const content = randomBytes(513);
    const e = await first(packTar([{ name: 'x', type: 'file', mode: 0o640, content }]));
    expect(e).toMatchObject({ name: 'x', type: 'file', size: 513 });
    expect(e?.content?.equals(content)).toBe(true);
    await expect(first(packTar([{ name: 'x', type: 'file', mode: 0o640, content }]), 512)).rejects.toThrow(TarLimitError);
  });
});
