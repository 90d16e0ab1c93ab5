/**
 * Moving files in and out of containers with the Engine's archive API (tar),
 * so it works for any image: no shell, cat or base64 needed inside the host.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { DockerHost } from '../../labs/schema';
import type { Readable } from 'node:stream';
import { EnvironmentError, FileRefusedError, formatBytes, READ_LIMIT_BYTES, TOOLBOX_BIN, type ReadOptions } from '../driver';
import { engineStatus } from './errors';
import { runExec } from './exec';
import { packTar, readFirstEntry, TarLimitError, type FirstEntry, type TarEntry } from './tar';

const posix = path.posix;

/**
 * Unpacks `entries` (names relative to `dir`) into `dir`, creating `dir` first when
 * missing. We do not put parent directories in the tar: the engine would reset the
 * mode and owner of ones that already exist (say /root).
 */
export async function putEntries(docker: Dockerode, container: Dockerode.Container, dir: string, entries: TarEntry[]): Promise<void> {
  const tar = packTar(entries);
  try {
    await container.putArchive(tar, { path: dir });
  } catch (err) {
    if (engineStatus(err) !== 404) throw err;
    // The toolbox's mkdir by its path: this exec has the platform's capabilities (docs/security.md).
    const r = await runExec(docker, container, [`${TOOLBOX_BIN}/mkdir`, '-p', '--', dir], { user: '0' });
    if (r.exitCode !== 0) throw new Error(`mkdir -p ${dir} failed: ${r.stderr.trim()}`);
    await container.putArchive(tar, { path: dir });
  }
}

export async function writeContainerFile(
  docker: Dockerode,
  container: Dockerode.Container,
  file: string,
  content: Buffer | string,
  mode = 0o644,
): Promise<void> {
  if (!posix.isAbsolute(file) || file.endsWith('/')) throw new EnvironmentError(`"${file}" is not an absolute file path`);
  const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  await putEntries(docker, container, posix.dirname(file), [{ name: posix.basename(file), type: 'file', mode, content: data }]);
}

/** What the engine says about a path (`HEAD /containers/{id}/archive`, header X-Docker-Container-Path-Stat). */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: permission bits plus type bits (MODE below). */
  mode: number;
  mtime: string;
  /** For a symlink: its target, resolved by the engine inside the container's filesystem. */
  linkTarget: string;
}

/** Type bits of Go's os.FileMode (io/fs). */
const MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  charDevice: 2 ** 21,
  irregular: 2 ** 19,
} as const;
const has = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;

/** "a directory", "a named pipe"...; undefined for a regular file (and for a symlink, which the caller follows). */
export function fileKind(mode: number): string | undefined {
  if (has(mode, MODE.dir)) return 'a directory';
  if (has(mode, MODE.symlink)) return undefined;
  if (has(mode, MODE.device)) return has(mode, MODE.charDevice) ? 'a character device' : 'a block device';
  if (has(mode, MODE.charDevice)) return 'a character device';
  if (has(mode, MODE.namedPipe)) return 'a named pipe';
  if (has(mode, MODE.socket)) return 'a socket';
  if (has(mode, MODE.irregular)) return 'an irregular file';
  return undefined;
}

/**
 * Stats a path through the engine without reading it. Undefined when missing (the engine answers
 * 404 for a missing path and for a missing container alike, as getArchive does). A 500 is the
 * engine failing to resolve the path: a symlink loop, or a path through something not a directory.
 */
export async function statContainerPath(container: Dockerode.Container, file: string): Promise<PathStat | undefined> {
  let res: { headers?: Record<string, string | string[] | undefined>; resume?: () => void };
  try {
    res = await container.infoArchive({ path: file });
  } catch (err) {
    if (engineStatus(err) === 404) return undefined;
    if (engineStatus(err) === 500)
      throw notAFile(file, 'a path the engine cannot resolve (a symlink loop, or a path through something that is not a directory)');
    throw err;
  }
  res.resume?.();
  const raw = res.headers?.['x-docker-container-path-stat'];
  if (typeof raw !== 'string') throw new EnvironmentError(`the container engine did not say what ${file} is (no X-Docker-Container-Path-Stat header)`);
  return JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as PathStat;
}

const MAX_LINKS = 8;

/**
 * Reads a regular file, following symlinks inside the container's filesystem. Undefined when
 * missing. Before a byte of content is fetched, the engine's stat refuses (FileRefusedError)
 * anything that is not a regular file and anything larger than `maxBytes`; the archive is then
 * streamed and dropped past `maxBytes` (the file may grow between stat and read).
 */
export async function readContainerFile(container: Dockerode.Container, file: string, opts: ReadOptions = {}): Promise<Buffer | undefined> {
  const maxBytes = opts.maxBytes ?? READ_LIMIT_BYTES;
  let at = file;
  let st: PathStat | undefined;
  for (let links = 0; ; links++) {
    st = await statContainerPath(container, at);
    if (!st) return undefined;
    if (!has(st.mode, MODE.symlink)) break;
    if (links === MAX_LINKS || !st.linkTarget) throw notAFile(file, `a chain of more than ${MAX_LINKS} symlinks`);
    at = posix.resolve(posix.dirname(at), st.linkTarget);
  }
  const via = at === file ? '' : ` (a symlink to ${at})`;
  const kind = fileKind(st.mode);
  if (kind) throw notAFile(file, at === file ? kind : `a symlink to ${at}, ${kind}`);
  if (st.size > maxBytes) throw tooBig(file, via, st.size, maxBytes);

  let entry: FirstEntry | undefined;
  try {
    entry = await readFirstEntry((await container.getArchive({ path: at })) as Readable, maxBytes);
  } catch (err) {
    if (engineStatus(err) === 404) return undefined;
    if (err instanceof TarLimitError) throw tooBig(file, via, err.size, maxBytes);
    throw err;
  }
  if (!entry) return undefined;
  // Replaced between the stat and the read: judge what was read, do not follow it again.
  if (!entry.content) throw notAFile(file, `${TAR_KINDS[entry.type] ?? `a ${entry.type}`} (it changed while it was read)`);
  return entry.content;
}

const TAR_KINDS: Record<string, string> = {
  directory: 'a directory',
  symlink: 'a symlink',
  link: 'a hard link',
  'character-device': 'a character device',
  'block-device': 'a block device',
  fifo: 'a named pipe',
};

function notAFile(file: string, what: string): FileRefusedError {
  return new FileRefusedError(file, 'not_a_file', `${file} is ${what}, not a file`, { what });
}

function tooBig(file: string, via: string, size: number, limit: number): FileRefusedError {
  return new FileRefusedError(file, 'too_big', `${file}${via} is ${formatBytes(size)}, more than the ${formatBytes(limit)} allowed`, { size, limit });
}

/** Resolves a lab-relative path, refusing anything outside the lab folder (also through symlinks). */
async function insideLab(labRoot: string, rel: string): Promise<string> {
  const root = await fs.realpath(labRoot);
  const resolved = path.resolve(root, rel);
  const real = await fs.realpath(resolved).catch(() => {
    throw new EnvironmentError(`lab file "${rel}" does not exist (looked in ${labRoot})`);
  });
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new EnvironmentError(`lab file "${rel}" points outside the lab folder`, 'host files must live inside the lab folder');
  }
  return real;
}

/** Tar entries for a file or a whole directory tree, named under `top`. */
async function entriesFor(src: string, top: string, mode?: number): Promise<TarEntry[]> {
  const st = await fs.stat(src);
  if (st.isFile()) return [{ name: top, type: 'file', mode: mode ?? st.mode & 0o7777, content: await fs.readFile(src) }];
  if (!st.isDirectory()) throw new EnvironmentError(`lab file ${src} is neither a file nor a directory`);
  const out: TarEntry[] = [{ name: top, type: 'dir', mode: mode ?? st.mode & 0o7777 }];
  for (const d of await fs.readdir(src, { withFileTypes: true })) {
    const child = path.join(src, d.name);
    const name = `${top}/${d.name}`;
    if (d.isSymbolicLink()) out.push({ name, type: 'symlink', mode: 0o777, linkname: await fs.readlink(child) });
    else out.push(...(await entriesFor(child, name)));
  }
  return out;
}

/**
 * A host's `files:` from the lab folder as tar entries named from `/` (`root/fleet.yaml`), read
 * before any container exists, so a missing file fails creation before anything is made.
 */
export async function hostFileEntries(host: DockerHost, labRoot: string): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for (const f of host.files) {
    const src = await insideLab(labRoot, f.from);
    const to = f.to.endsWith('/') ? posix.join(f.to, path.basename(src)) : f.to;
    out.push(...(await entriesFor(src, posix.normalize(to).replace(/^\/+/, ''), f.mode ? parseInt(f.mode, 8) : undefined)));
  }
  return out;
}

/**
 * Everything a host gets at creation in one engine call: one archive unpacked at `/`. Folders the
 * archive does not list are made by the engine (root's, 0755) when missing and left as they are
 * when present, so /root keeps its mode.
 */
export async function putRootEntries(container: Dockerode.Container, entries: TarEntry[]): Promise<void> {
  if (entries.length) await container.putArchive(packTar(entries), { path: '/' });
}
