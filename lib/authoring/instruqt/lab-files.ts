/**
 * The imported lab as a list of files, and writing it. Files are collected first and written
 * only when the whole track was read, so a track that cannot be imported leaves nothing behind;
 * copied files (assets) are streamed from the track, never held in memory. An existing --out
 * folder is refused unless forced, and forcing replaces only the parts of a lab (track.yml,
 * challenge folders, track_scripts/, assets/), never anything else that lives there.
 */
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { displayPath, problemIn, type Problem } from '../../labs/positions';
import { LIMITS, listEntries } from './source';

export interface OutFile {
  /** Relative to the lab folder. */
  path: string;
  text?: string;
  /** Absolute path of a file of the track to copy as it is. */
  from?: string;
  mode: number;
}

/** Every regular file under `dir` as files to copy to `to/`; symlinks and oversized files are reported and left out. */
export async function copyTree(
  dir: string,
  to: string,
  budget: { bytes: number },
  problems: Problem[],
  skip: (name: string) => boolean = () => false,
): Promise<OutFile[]> {
  const out: OutFile[] = [];
  for (const e of (await listEntries(dir, problems)) ?? []) {
    if (skip(e.name)) continue;
    const rel = path.posix.join(to, e.name);
    if (e.kind === 'dir') out.push(...(await copyTree(e.abs, rel, budget, problems)));
    else if (e.kind !== 'file')
      problems.push(problemIn(displayPath(e.abs), `${e.kind === 'symlink' ? 'is a symlink: not followed' : 'is not a regular file'}, not copied`));
    else if (e.size > LIMITS.asset || e.size > budget.bytes) {
      const why =
        e.size > LIMITS.asset
          ? `over the ${LIMITS.asset / 1024 / 1024} MiB a copied file may have`
          : `past the ${LIMITS.assets / 1024 / 1024} MiB all copied files may have together`;
      problems.push(problemIn(displayPath(e.abs), `${(e.size / 1024 / 1024).toFixed(1)} MiB, ${why}: not copied`));
    } else {
      budget.bytes -= e.size;
      out.push({ path: rel, from: e.abs, mode: 0o644 });
    }
  }
  return out;
}

/** Entries of a lab folder that a forced import replaces. */
const LAB_PART = /^(track\.yml|track_scripts|assets|\d+-.*)$/;

/** Undefined when `out` may be written (missing, empty, or forced); otherwise why not. */
export async function prepareOut(out: string, source: string, force: boolean): Promise<string | undefined> {
  const rel = path.relative(source, out);
  const back = path.relative(out, source);
  if (!rel || !rel.startsWith('..') || !back.startsWith('..'))
    return `${displayPath(out)} overlaps the track folder ${displayPath(source)}: pick another --out`;
  const names = await fs.readdir(out).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)));
  if (!names.length) return undefined;
  if (!force) return `${displayPath(out)} is not empty: pick another --out, or --force to replace the lab in it`;
  for (const name of names.filter((n) => LAB_PART.test(n))) await fs.rm(path.join(out, name), { recursive: true, force: true });
  return undefined;
}

export async function writeFiles(out: string, files: OutFile[]): Promise<void> {
  for (const f of files) {
    const abs = path.join(out, f.path);
    await fs.mkdir(path.dirname(abs), { recursive: true });
    if (f.from !== undefined) await copyNoFollow(f.from, abs);
    else await fs.writeFile(abs, f.text ?? '');
    await fs.chmod(abs, f.mode); // not left to the umask: lint wants scripts executable
  }
}

/** A copy that refuses a source swapped for a symlink (or grown past the limit) since it was listed. */
async function copyNoFollow(from: string, to: string): Promise<void> {
  const fh = await fs.open(from, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > LIMITS.asset) throw new Error(`${displayPath(from)} changed while the track was imported`);
    const dest = await fs.open(to, 'w');
    await pipeline(fh.createReadStream({ autoClose: false, end: LIMITS.asset }), dest.createWriteStream());
  } finally {
    await fh.close();
  }
}
