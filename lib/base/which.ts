/** Finding a program the way a shell would: the first directory on PATH that has it. */
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The sbin directories a non-root PATH often lacks, where iptables and friends live. */
export const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The program's full path, or null. `extraDirs` are searched after PATH. */
export function which(binary: string, { PATH = process.env.PATH ?? '', extraDirs = [] as string[] } = {}): string | null {
  for (const dir of [...PATH.split(path.delimiter), ...extraDirs]) {
    if (dir && existsSync(path.join(dir, binary))) return path.join(dir, binary);
  }
  return null;
}
