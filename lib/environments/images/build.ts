/**
 * Host images. Labs name `labforge/base`; we build it here from Debian packages
 * (debootstrap + docker import) because no container registry may be reachable.
 * The builtin name resolves to a tag derived from the recipe, so changing the
 * recipe builds a new image instead of silently reusing a stale one.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import Dockerode from 'dockerode';
import { loadConfig } from '../../base/config';
import { log as rootLog } from '../../base/log';
import { SBIN_DIRS, which } from '../../base/which';
import { EnvironmentError, type ProgressFn } from '../driver';

const log = rootLog.child({ module: 'images' });

export interface ImageRecipe {
  suite: string;
  variant: 'minbase';
  packages: string[];
  /** Dockerfile-style instructions applied at import. */
  changes: string[];
}

export const BUILTIN_IMAGES: Record<string, ImageRecipe> = {
  'labforge/base': {
    suite: 'bookworm',
    variant: 'minbase',
    packages: [
      'bash',
      'socat',
      'iproute2',
      'tcpdump',
      'jq',
      'curl',
      'procps',
      'tmux',
      'iputils-ping',
      'nano',
      'less',
      'ca-certificates',
      'openssh-client',
      'openssh-server',
      'dnsutils',
      'netcat-openbsd',
      // Not for learners: the toolbox (toolbox.ts) copies these static binaries out of the image.
      'bash-static',
      'busybox-static',
      // Not for learners either (they lack NET_ADMIN): installs the host firewall rule (docker/boundary.ts).
      'iptables',
    ],
    changes: ['ENV LANG=C.UTF-8', 'CMD ["sleep","infinity"]'],
  },
};

/** Bumped when the build steps (not the recipe) change in a way that alters the image. */
const BUILD_STEPS_VERSION = 1;

/** `labforge/base` -> `labforge/base:<8 hex of the recipe>`; any other name is returned unchanged. */
export function resolveImage(image: string): string {
  const recipe = BUILTIN_IMAGES[image];
  if (!recipe) return image;
  const hash = createHash('sha256')
    .update(JSON.stringify({ v: BUILD_STEPS_VERSION, ...recipe }))
    .digest('hex');
  return `${image}:${hash.slice(0, 8)}`;
}

/**
 * The Debian mirror from the machine's own apt configuration: the deb822 file
 * (`debian.sources`) or the one-line `sources.list`. Skips security suites,
 * which live on a different path.
 */
export function mirrorFromAptConfig(deb822: string | null, sourcesList: string | null): string | null {
  const candidates: { uri: string; suites: string[] }[] = [];
  if (deb822) {
    for (const stanza of deb822.split(/\n\s*\n/)) {
      const field = (name: string) =>
        stanza
          .match(new RegExp(`^${name}:\\s*(.+)$`, 'mi'))?.[1]
          .trim()
          .split(/\s+/) ?? [];
      if (!field('Types').includes('deb') || !field('Components').includes('main')) continue;
      const uri = field('URIs')[0];
      if (uri) candidates.push({ uri, suites: field('Suites') });
    }
  }
  if (sourcesList) {
    for (const line of sourcesList.split('\n')) {
      const m = line.trim().match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$/);
      if (m && m[3].split(/\s+/).includes('main')) candidates.push({ uri: m[1], suites: [m[2]] });
    }
  }
  const usable = candidates.filter((c) => c.suites.some((s) => !s.endsWith('-security')));
  const best = usable.find((c) => c.suites.includes('bookworm')) ?? usable[0];
  return best ? best.uri : null;
}

function readIfExists(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

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

export interface ImageBuilderOptions {
  docker?: Dockerode;
  /** Where build scratch space goes (`<dataDir>/tmp`). */
  dataDir?: string;
  /** Debian mirror URL; default LABFORGE_DEBIAN_MIRROR, then the machine's apt configuration. */
  mirror?: string;
}

export class ImageBuilder {
  private readonly docker: Dockerode;
  private readonly dataDir: string;
  private readonly mirror?: string;
  /** One build per image in this process, shared by concurrent callers. */
  private readonly building = new Map<string, Promise<string>>();

  constructor(opts: ImageBuilderOptions = {}) {
    const config = loadConfig();
    this.docker = opts.docker ?? new Dockerode();
    this.dataDir = opts.dataDir ?? config.dataDir;
    this.mirror = opts.mirror ?? config.debianMirror;
  }

  async imageExists(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw err;
    }
  }

  /** Makes sure the image is on this machine and returns the concrete reference to run. */
  async ensure(image: string, progress: ProgressFn = () => {}): Promise<string> {
    const ref = resolveImage(image);
    if (await this.imageExists(ref)) return ref;
    if (BUILTIN_IMAGES[image]) return this.build(image, progress);
    return this.pull(ref, progress);
  }

  /** Builds a builtin image (or joins the build already running). */
  build(name: string, progress: ProgressFn = () => {}): Promise<string> {
    if (!BUILTIN_IMAGES[name]) {
      throw new EnvironmentError(`"${name}" is not a builtin image (builtin: ${Object.keys(BUILTIN_IMAGES).join(', ')})`);
    }
    const ref = resolveImage(name);
    let job = this.building.get(ref);
    if (!job) {
      job = this.buildLocked(name, ref, progress).finally(() => this.building.delete(ref));
      this.building.set(ref, job);
    }
    return job;
  }

  private async pull(ref: string, progress: ProgressFn): Promise<string> {
    const step = `Pulling image ${ref}`;
    const started = Date.now();
    progress({ step, status: 'running' });
    try {
      const stream = await this.docker.pull(ref);
      await new Promise<void>((resolve, reject) => this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
      progress({ step, status: 'done', ms: Date.now() - started });
      return ref;
    } catch (err) {
      progress({ step, status: 'failed', ms: Date.now() - started });
      const reason = (err as Error).message.replace(/^\(HTTP code \d+\)\s*\S+\s*-\s*/, '');
      throw new EnvironmentError(
        `image "${ref}" is not on this machine and could not be pulled: ${reason}`,
        `load it with "docker load" / "docker import", or use a builtin image (${Object.keys(BUILTIN_IMAGES).join(', ')})`,
      );
    }
  }

  /**
   * Another process (a second test worker, the CLI) may build the same image: a lock
   * file in the data dir makes the later one wait and reuse the result.
   */
  private async buildLocked(name: string, ref: string, progress: ProgressFn): Promise<string> {
    const tmp = path.join(this.dataDir, 'tmp');
    await fs.mkdir(tmp, { recursive: true });
    const lock = path.join(tmp, `build-${ref.replace(/[^a-z0-9]+/gi, '_')}.lock`);
    let told = false;
    for (;;) {
      try {
        await fs.writeFile(lock, String(process.pid), { flag: 'wx' });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number(await fs.readFile(lock, 'utf8').catch(() => '0'));
        if (!owner || !alive(owner)) {
          await fs.rm(lock, { force: true });
          continue;
        }
        if (!told) progress({ step: `Building image ${name}`, status: 'running', detail: `waiting for the build in process ${owner}` });
        told = true;
        await new Promise((r) => setTimeout(r, 1000));
        if (!existsSync(lock) && (await this.imageExists(ref))) return ref;
      }
    }
    try {
      if (await this.imageExists(ref)) return ref;
      return await this.buildNow(name, ref, progress);
    } finally {
      await fs.rm(lock, { force: true });
    }
  }

  private async buildNow(name: string, ref: string, progress: ProgressFn): Promise<string> {
    const recipe = BUILTIN_IMAGES[name];
    const step = `Building image ${name}`;
    const started = Date.now();
    const debootstrap = which('debootstrap', { extraDirs: SBIN_DIRS });
    if (!debootstrap) {
      progress({ step, status: 'failed', detail: 'debootstrap is not installed' });
      throw new EnvironmentError(`cannot build ${name}: debootstrap is not installed`, 'apt-get install debootstrap');
    }
    const mirror = this.mirror ?? mirrorFromAptConfig(readIfExists('/etc/apt/sources.list.d/debian.sources'), readIfExists('/etc/apt/sources.list'));
    if (!mirror) {
      throw new EnvironmentError(
        `cannot build ${name}: no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list`,
        'set LABFORGE_DEBIAN_MIRROR to a Debian mirror URL',
      );
    }
    const workdir = path.join(this.dataDir, 'tmp', `build-${randomBytes(4).toString('hex')}`);
    const rootfs = path.join(workdir, 'rootfs');
    await fs.mkdir(rootfs, { recursive: true });
    progress({ step, status: 'running', detail: `debootstrap ${recipe.suite} (${recipe.packages.length} packages)` });
    log.info({ name, ref, workdir }, 'building image');
    // Debootstrap prints a line per package; pass on at most one a second.
    let last = 0;
    const onLine = (line: string) => {
      const now = Date.now();
      if (now - last < 1000 || !/^[IW]: /.test(line)) return;
      last = now;
      progress({ step, status: 'running', detail: line.slice(3) });
    };
    try {
      await run(debootstrap, [`--variant=${recipe.variant}`, `--include=${recipe.packages.join(',')}`, recipe.suite, rootfs, mirror], onLine);
      await this.trimRootfs(rootfs);
      progress({ step, status: 'running', detail: 'importing into Docker' });
      await this.importRootfs(rootfs, ref, recipe.changes);
      const ms = Date.now() - started;
      progress({ step, status: 'done', ms });
      log.info({ ref, ms }, 'image built');
      return ref;
    } catch (err) {
      progress({ step, status: 'failed', ms: Date.now() - started, detail: (err as Error).message });
      if (err instanceof EnvironmentError) throw err;
      throw new EnvironmentError(`building image ${name} failed: ${(err as Error).message}`, 'check the Debian mirror and disk space, then retry');
    } finally {
      await removeRootfs(workdir);
    }
  }

  /** Drops what only makes the image bigger or shared secrets (sshd host keys: labs run `ssh-keygen -A`). */
  private async trimRootfs(rootfs: string): Promise<void> {
    const rm = (rel: string) => fs.rm(path.join(rootfs, rel), { recursive: true, force: true });
    await Promise.all([rm('var/cache/apt/archives'), rm('var/lib/apt/lists'), rm('debootstrap')]);
    await fs.mkdir(path.join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
    await fs.mkdir(path.join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
    const ssh = path.join(rootfs, 'etc/ssh');
    for (const f of await fs.readdir(ssh).catch(() => [] as string[])) {
      if (f.startsWith('ssh_host_')) await fs.rm(path.join(ssh, f), { force: true });
    }
  }

  /** Streams `tar -c` of the rootfs into the Engine's image import. */
  private async importRootfs(rootfs: string, ref: string, changes: string[]): Promise<void> {
    const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
    const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tarErr = '';
    tar.stderr.on('data', (d: Buffer) => (tarErr += d.toString()));
    const tarDone = new Promise<void>((resolve, reject) => {
      tar.on('error', reject);
      tar.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}: ${tarErr.trim()}`))));
    });
    const stream = await this.docker.importImage(tar.stdout, { repo, tag, changes } as object);
    await new Promise<void>((resolve, reject) =>
      this.docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
        const failed = out?.find((m) => m.error);
        if (err || failed) reject(err ?? new Error(failed!.error));
        else resolve();
      }),
    );
    await tarDone;
    if (!(await this.imageExists(ref))) throw new Error(`docker import finished but ${ref} is not there`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Debootstrap mounts /proc and /sys in the rootfs; a failed run can leave them: unmount before deleting. */
async function removeRootfs(workdir: string): Promise<void> {
  const mounts = readIfExists('/proc/mounts') ?? '';
  const inside = mounts
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((m) => m && m.startsWith(workdir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of inside) await run('umount', ['-l', m], () => {}).catch((e) => log.warn({ m, err: String(e) }, 'umount failed'));
  if (inside.length && (readIfExists('/proc/mounts') ?? '').includes(workdir + '/')) {
    log.error({ workdir }, 'build dir still has mounts; leaving it in place');
    return;
  }
  await fs.rm(workdir, { recursive: true, force: true });
}

/** `labforge images build [name...]`: builds the named builtin images (default: all); exit code. */
export async function buildImagesCli(names: string[]): Promise<number> {
  const unknown = names.filter((n) => !BUILTIN_IMAGES[n]);
  if (unknown.length) {
    process.stderr.write(`unknown image ${unknown.join(', ')}; builtin images: ${Object.keys(BUILTIN_IMAGES).join(', ')}\n`);
    return 2;
  }
  const builder = new ImageBuilder();
  for (const name of names.length ? names : Object.keys(BUILTIN_IMAGES)) {
    const ref = resolveImage(name);
    if (await builder.imageExists(ref)) {
      process.stdout.write(`${name}: ${ref} is up to date\n`);
      continue;
    }
    try {
      await builder.build(name, (p) =>
        process.stdout.write(`${name}: ${p.status === 'running' ? (p.detail ?? p.step) : `${p.status} in ${((p.ms ?? 0) / 1000).toFixed(1)} s`}\n`),
      );
      process.stdout.write(`${name}: built ${ref}\n`);
    } catch (err) {
      const e = err as EnvironmentError;
      process.stderr.write(`${name}: ${e.message}${e.hint ? `\n  fix: ${e.hint}` : ''}\n`);
      return 1;
    }
  }
  return 0;
}
