/**
 * The root filesystem of a builtin image: made by debootstrap in a scratch folder, trimmed,
 * streamed into the engine with `docker import`, and removed again.
 */
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { log as rootLog } from '../../base/log';

const log = rootLog.child({ module: 'images' });

/** Runs a command, feeding each output line to `onLine`; rejects with the last lines on failure. */
function run(cmd: string, args: string[], onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const feed = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 15) tail.shift();
        onLine(line);
      }
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} exited with ${code}:\n${tail.join('\n')}`))));
  });
}

/** Fills `rootfs` with a Debian `suite` and `packages` from `mirror`; debootstrap's output lines go to `onLine`. */
export function debootstrap(
  bin: string,
  recipe: { suite: string; variant: string; packages: string[] },
  rootfs: string,
  mirror: string,
  onLine: (line: string) => void,
): Promise<void> {
  return run(bin, [`--variant=${recipe.variant}`, `--include=${recipe.packages.join(',')}`, recipe.suite, rootfs, mirror], onLine);
}

/** Puts verified release binaries in the rootfs as /usr/local/bin/<name>, executable by everyone, owned by root. */
export async function installBinaries(rootfs: string, binaries: { name: string; data: Buffer }[]): Promise<void> {
  const dir = path.join(rootfs, 'usr/local/bin');
  await fs.mkdir(dir, { recursive: true });
  for (const b of binaries) {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(b.name)) throw new Error(`refusing to install a binary named "${b.name}"`);
    await fs.writeFile(path.join(dir, b.name), b.data, { mode: 0o755 });
    await fs.chmod(path.join(dir, b.name), 0o755); // the mode above is masked by the umask
  }
}

/** Drops what only makes the image bigger or shared secrets (sshd host keys: labs run `ssh-keygen -A`). */
export async function trimRootfs(rootfs: string): Promise<void> {
  const rm = (rel: string) => fs.rm(path.join(rootfs, rel), { recursive: true, force: true });
  await Promise.all([rm('var/cache/apt/archives'), rm('var/lib/apt/lists'), rm('debootstrap')]);
  await fs.mkdir(path.join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
  await fs.mkdir(path.join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
  const ssh = path.join(rootfs, 'etc/ssh');
  for (const f of await fs.readdir(ssh).catch(() => [] as string[])) {
    if (f.startsWith('ssh_host_')) await fs.rm(path.join(ssh, f), { force: true });
  }
}

/** Streams `tar -c` of the rootfs into the Engine's image import, as `ref` with Dockerfile-style `changes`. */
export async function importRootfs(docker: Dockerode, rootfs: string, ref: string, changes: string[]): Promise<void> {
  const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
  const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tarErr = '';
  tar.stderr.on('data', (d: Buffer) => (tarErr += d.toString()));
  const tarDone = new Promise<void>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}: ${tarErr.trim()}`))));
  });
  const stream = await docker.importImage(tar.stdout, { repo, tag, changes } as object);
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
      const failed = out?.find((m) => m.error);
      if (err || failed) reject(err ?? new Error(failed!.error));
      else resolve();
    }),
  );
  await tarDone;
}

/** Debootstrap mounts /proc and /sys in the rootfs; a failed run can leave them: unmount before deleting. */
export async function removeRootfs(workdir: string): Promise<void> {
  const inside = mountsBelow(workdir);
  for (const m of inside) await run('umount', ['-l', m], () => {}).catch((e) => log.warn({ m, err: String(e) }, 'umount failed'));
  if (inside.length && mountsBelow(workdir).length) {
    log.error({ workdir }, 'build dir still has mounts; leaving it in place');
    return;
  }
  await fs.rm(workdir, { recursive: true, force: true });
}

/** Mount points below `dir`, deepest first (the order to unmount them in). */
function mountsBelow(dir: string): string[] {
  let mounts = '';
  try {
    mounts = readFileSync('/proc/mounts', 'utf8');
  } catch {
    // No /proc: nothing we could unmount either.
  }
  return mounts
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((m) => m && m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}
