/**
 * The lab folder watcher of `labforge dev` (lib/labs/watch.ts): bursts of file events become one
 * call, after a quiet time or at the latest after the longest wait; calls never overlap; editor
 * leftovers are not edits. A fake fs.watch and fake timers, then one real folder on disk.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { editorLeftovers, watchFolder, type WatchFn } from '../../lib/labs/watch';
import { waitFor } from '../support/wait';

/** A stand-in for fs.watch: `emit(file)` is an event for that path. */
function fakeWatch() {
  let listener: ((event: string, file: string | null) => void) | undefined;
  const state = { closed: false, onError: undefined as ((e: Error) => void) | undefined };
  const watch: WatchFn = (_dir, l) => {
    listener = l;
    return {
      close: () => void (state.closed = true),
      on: (_event, fn) => (state.onError = fn),
    };
  };
  return { watch, state, emit: (file: string | null, event = 'change') => listener!(event, file) };
}

describe('watchFolder (fake fs.watch, fake timers)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('turns a burst of events into one call, once the folder is quiet', async () => {
    const fake = fakeWatch();
    const calls: string[][] = [];
    watchFolder('/lab', (files) => void calls.push(files), { quietMs: 150, maxWaitMs: 1000, watch: fake.watch });
    fake.emit('01-a/check-web', 'rename');
    await vi.advanceTimersByTimeAsync(100);
    fake.emit('01-a/check-web');
    fake.emit('01-a/assignment.md');
    await vi.advanceTimersByTimeAsync(149);
    expect(calls).toEqual([]); // still within the quiet time of the last event
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([['01-a/assignment.md', '01-a/check-web']]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(1);
  });

  it('calls at the latest maxWaitMs after a burst began, even if events never stop', async () => {
    const fake = fakeWatch();
    const calls: number[] = [];
    watchFolder('/lab', () => void calls.push(Date.now()), { quietMs: 150, maxWaitMs: 1000, watch: fake.watch });
    const start = Date.now();
    for (let t = 0; t < 1500; t += 100) {
      fake.emit('track.yml');
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(calls.map((t) => t - start)).toEqual([1000]);
  });

  it('never overlaps calls: events during one make exactly one more after it', async () => {
    const fake = fakeWatch();
    const calls: string[][] = [];
    let finish: () => void = () => {};
    watchFolder(
      '/lab',
      (files) => {
        calls.push(files);
        return new Promise<void>((r) => (finish = r));
      },
      { quietMs: 100, watch: fake.watch },
    );
    fake.emit('a');
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toEqual([['a']]);
    fake.emit('b');
    fake.emit('c');
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toHaveLength(1); // the first call is still running
    finish();
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([['a'], ['b', 'c']]);
  });

  it('keeps watching after a call that fails', async () => {
    const fake = fakeWatch();
    let n = 0;
    watchFolder(
      '/lab',
      () => {
        n++;
        throw new Error('broken');
      },
      { quietMs: 10, watch: fake.watch },
    );
    fake.emit('a');
    await vi.advanceTimersByTimeAsync(10);
    fake.emit('a');
    await vi.advanceTimersByTimeAsync(10);
    expect(n).toBe(2);
  });

  it('ignores editor leftovers, and reports an unnamed change as ""', async () => {
    const fake = fakeWatch();
    const calls: string[][] = [];
    watchFolder('/lab', (files) => void calls.push(files), { quietMs: 10, watch: fake.watch });
    for (const f of ['.git/index', '01-a/.check-web.swp', '01-a/check-web~', '01-a/4913', '.#track.yml']) fake.emit(f);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual([]);
    fake.emit(null);
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toEqual([['']]);
  });

  it('stops calling once closed, even with a call pending', async () => {
    const fake = fakeWatch();
    const calls: string[][] = [];
    const w = watchFolder('/lab', (files) => void calls.push(files), { quietMs: 10, watch: fake.watch });
    fake.emit('a');
    w.close();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual([]);
    expect(fake.state.closed).toBe(true);
  });

  it('says which folder it cannot watch', () => {
    const watch: WatchFn = () => {
      throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
    };
    expect(() => watchFolder('/nope', () => {}, { watch })).toThrow('cannot watch /nope: ENOENT: no such file or directory');
  });
});

describe('editorLeftovers', () => {
  it('is true for dot files and folders, backups and vim’s write test; false for lab files', () => {
    expect(['.git/HEAD', 'a/.b.swp', 'x~', '4913', 'a/4913'].map(editorLeftovers)).toEqual([true, true, true, true, true]);
    expect(['track.yml', '01-a/check-web', 'assets/x.txt', ''].map(editorLeftovers)).toEqual([false, false, false, false]);
  });
});

describe('watchFolder on a real folder (fs.watch per folder)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-watch-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sees saves in subfolders, new folders, and files saved by renaming a copy over them', async () => {
    fs.mkdirSync(path.join(dir, '01-a'));
    fs.writeFileSync(path.join(dir, '01-a', 'check-web'), 'exit 0\n');
    let seen: string[] = [];
    const saw = (rel: string) => async () => {
      await waitFor(rel, () => seen.includes(rel), 5000);
      seen = [];
    };
    const w = watchFolder(dir, (files) => void seen.push(...files), { quietMs: 20 });
    try {
      fs.writeFileSync(path.join(dir, '01-a', 'check-web'), 'exit 1\n');
      await saw(path.join('01-a', 'check-web'))();

      // An atomic save (vim, sed -i): a new file renamed over the old one. Node 20's recursive
      // fs.watch on Linux misses every later save of such a file; this watcher must not.
      fs.writeFileSync(path.join(dir, '01-a', 'check-web.tmp'), 'exit 2\n');
      fs.renameSync(path.join(dir, '01-a', 'check-web.tmp'), path.join(dir, '01-a', 'check-web'));
      await saw(path.join('01-a', 'check-web'))();
      fs.writeFileSync(path.join(dir, '01-a', 'check-web'), 'exit 3\n');
      await saw(path.join('01-a', 'check-web'))();

      fs.mkdirSync(path.join(dir, '02-b'));
      await saw('02-b')();
      fs.writeFileSync(path.join(dir, '02-b', 'assignment.md'), 'text\n');
      await saw(path.join('02-b', 'assignment.md'))();

      // A folder removed and made again is watched again.
      fs.rmSync(path.join(dir, '02-b'), { recursive: true });
      await saw('02-b')();
      fs.mkdirSync(path.join(dir, '02-b'));
      await saw('02-b')();
      fs.writeFileSync(path.join(dir, '02-b', 'assignment.md'), 'again\n');
      await saw(path.join('02-b', 'assignment.md'))();

      // Ignored folders are not watched at all (a .git with thousands of objects costs nothing).
      fs.mkdirSync(path.join(dir, '.git'));
      fs.writeFileSync(path.join(dir, '.git', 'HEAD'), 'ref\n');
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([]);
    } finally {
      w.close();
    }
  });
});
