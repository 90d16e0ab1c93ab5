/**
 * Moving files in and out of containers with the Engine's archive API (tar),
 * so it works for any image: no shell, cat or base64 needed inside the host.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { DockerHost } from '../labs/schema';
import { EnvironmentError } from './driver';
import { runExec } from './docker-exec';
import { packTar, unpackTar, type TarEntry } from './tar';

const posix = path.posix;

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

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
    if (statusOf(err) !== 404) throw err;
    const r = await runExec(docker, container, ['mkdir', '-p', '--', dir], { user: '0' });
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

/** Reads a regular file, following symlinks (inside the container's filesystem). Undefined when missing. */
export async function readContainerFile(container: Dockerode.Container, file: string, depth = 0): Promise<Buffer | undefined> {
  let tar: Buffer;
  try {
    tar = await streamToBuffer((await container.getArchive({ path: file })) as NodeJS.ReadableStream);
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
  const [first] = unpackTar(tar);
  if (!first) return undefined;
  if (first.type === 'symlink' && depth < 8) {
    return readContainerFile(container, posix.resolve(posix.dirname(file), first.linkname), depth + 1);
  }
  if (first.type !== 'file') throw new EnvironmentError(`${file} is not a regular file (it is a ${first.type === 'dir' ? 'directory' : first.type})`);
  return first.content;
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

/** Copies a host's `files:` from the lab folder into its container. */
export async function copyHostFiles(docker: Dockerode, container: Dockerode.Container, host: DockerHost, labRoot: string): Promise<void> {
  for (const f of host.files) {
    const src = await insideLab(labRoot, f.from);
    const to = f.to.endsWith('/') ? posix.join(f.to, path.basename(src)) : f.to;
    const entries = await entriesFor(src, posix.basename(to), f.mode ? parseInt(f.mode, 8) : undefined);
    await putEntries(docker, container, posix.dirname(to), entries);
  }
}
