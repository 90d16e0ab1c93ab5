/**
 * One build of an image per machine: another process (a second test worker, the CLI) may build
 * the same image, so a lock file holding the builder's pid makes the later one wait and reuse the
 * result. A lock whose process is gone is taken over.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { processAlive } from '../../base/process';

export interface BuildLockHooks {
  /** Called once, when another live process holds the lock. */
  onWait: (pid: number) => void;
  /** Whether the image is there (built by the holder, or before we got the lock). */
  built: () => Promise<boolean>;
}

/** Runs `build` holding `lock` unless the image turns out to be built already; resolves once it is. */
export async function withBuildLock(lock: string, hooks: BuildLockHooks, build: () => Promise<unknown>): Promise<void> {
  await fs.mkdir(path.dirname(lock), { recursive: true });
  let told = false;
  for (;;) {
    try {
      await fs.writeFile(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await fs.readFile(lock, 'utf8').catch(() => '0'));
      if (!owner || !processAlive(owner)) {
        await fs.rm(lock, { force: true });
        continue;
      }
      if (!told) hooks.onWait(owner);
      told = true;
      await new Promise((r) => setTimeout(r, 1000));
      if (!existsSync(lock) && (await hooks.built())) return;
    }
  }
  try {
    if (await hooks.built()) return;
    await build();
  } finally {
    await fs.rm(lock, { force: true });
  }
}
