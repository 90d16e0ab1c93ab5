/**
 * The saved terminal screens (lib/terminals/node/screens.ts) on a real filesystem: bounded like the
 * replay buffer, refused by size before they are read, written at most once a second, atomically,
 * and gone when the terminal ends for good. The restart itself: test/server/terminal-restart.docker.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { log } from '../../lib/base/log';
import { ScreenStore } from '../../lib/terminals/node/screens';
import { sleep } from '../support/wait';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-screens-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString();

it('keeps the newest maxBytes, and reads back only its own, whole, bounded files', async () => {
  const store = new ScreenStore(dir, log, { maxBytes: 10 });
  await store.save('s1', 'shell', 'lf-1', [Buffer.from('0123456'), Buffer.from('789abcdef')]);
  const got = await store.load('s1', 'shell');
  expect(text(got?.bytes)).toBe('6789abcdef');
  expect(got?.terminalId).toBe('lf-1');
  const file = store.fileOf('s1', 'shell');
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readdirSync(path.dirname(file))).toEqual(['shell.screen']); // no temp file left

  // Another tab's file copied over this one, a truncated one, one far too big: each ignored.
  await store.save('s1', 'other', 'lf-2', [Buffer.from('x')]);
  fs.copyFileSync(store.fileOf('s1', 'other'), file);
  expect(await store.load('s1', 'shell')).toBeUndefined();
  await store.save('s1', 'shell', 'lf-1', [Buffer.from('0123456789')]);
  fs.truncateSync(file, fs.statSync(file).size - 1);
  expect(await store.load('s1', 'shell')).toBeUndefined();
  fs.truncateSync(file, 2 * 1024 * 1024 * 1024); // 2 GiB, sparse: a read of it would take the process down
  const t = Date.now();
  expect(await store.load('s1', 'shell')).toBeUndefined();
  expect(Date.now() - t).toBeLessThan(1000);
  expect(await store.load('nobody', 'shell')).toBeUndefined();
});

it('writes at most once per interval, then once more on flush; discard removes the file for good', async () => {
  const store = new ScreenStore(dir, log, { everyMs: 300 });
  const writes: number[] = [];
  const save = store.save.bind(store);
  store.save = (...args) => (writes.push(Date.now()), save(...args));
  let screen = 'a';
  const keeper = store.keeper('s1', 'shell', 'lf-1', () => [Buffer.from(screen)]);
  const start = Date.now();
  while (Date.now() - start < 1000) {
    screen += 'a';
    keeper.changed();
    await sleep(5);
  }
  await sleep(350);
  // ~1 s of changes every 5 ms: a handful of writes (fewer on a loaded machine), never two within the interval.
  expect(writes.length).toBeGreaterThanOrEqual(2);
  expect(writes.length).toBeLessThanOrEqual(5);
  for (let i = 1; i < writes.length; i++) expect(writes[i] - writes[i - 1]).toBeGreaterThanOrEqual(290);
  expect(text((await store.load('s1', 'shell'))?.bytes)).toBe(screen);

  screen += 'b';
  keeper.changed();
  await keeper.flush();
  expect(text((await store.load('s1', 'shell'))?.bytes)).toBe(screen);
  keeper.changed(); // after flush: nothing more
  await sleep(350);
  expect(text((await store.load('s1', 'shell'))?.bytes)).toBe(screen);

  const second = store.keeper('s1', 'shell', 'lf-2', () => [Buffer.from('zzz')]);
  second.changed();
  void second.discard(); // queued behind nothing; a load queued after it sees no file
  expect(await store.load('s1', 'shell')).toBeUndefined();
});

it('removes a session folder after the writes queued for it, and sweeps sessions that are over', async () => {
  const store = new ScreenStore(dir, log);
  void store.save('s1', 'a', 'lf-1', [Buffer.from('1')]);
  void store.save('s1', 'b', 'lf-2', [Buffer.from('2')]);
  await store.removeSession('s1');
  expect(fs.existsSync(path.join(dir, 's1'))).toBe(false);

  await store.save('live', 'a', 'lf-3', [Buffer.from('3')]);
  await store.save('over', 'a', 'lf-4', [Buffer.from('4')]);
  expect(await store.sweep(new Set(['live']))).toBe(1);
  expect(fs.readdirSync(dir)).toEqual(['live']);
  // Odd ids get a hashed name, never a path of their own.
  await store.save('../x', '../../etc/passwd', 'lf-5', [Buffer.from('5')]);
  expect(fs.readdirSync(dir).sort()).toHaveLength(2);
  expect(text((await store.load('../x', '../../etc/passwd'))?.bytes)).toBe('5');
});
