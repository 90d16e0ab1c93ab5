/**
 * Host images. Labs name `labforge/base` or `labforge/k8s-workstation`; we build them here from
 * their recipes (recipes.ts: Debian packages through debootstrap + docker import, and pinned,
 * checksum-verified release binaries) because no container registry may be reachable.
 * The builtin name resolves to a tag derived from the recipe, so changing the
 * recipe builds a new image instead of silently reusing a stale one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import Dockerode from 'dockerode';
import { log as rootLog } from '../../base/log';
import { SBIN_DIRS, which } from '../../base/which';
import { EnvironmentError, type ProgressFn } from '../driver';
import { withBuildLock } from './build-lock';
import { archOf, fetchPinnedBinaries, type Fetcher, type VerifiedBinary } from './downloads';
import { machineMirror } from './mirror';
import { BUILTIN_IMAGES, type ImageRecipe } from './recipes';
import { debootstrap, importRootfs, installBinaries, removeRootfs, trimRootfs } from './rootfs';

export { BUILTIN_IMAGES, type ImageRecipe };

const log = rootLog.child({ module: 'images' });

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

export interface ImageBuilderOptions {
  docker?: Dockerode;
  /**
   * Where build scratch space and the build lock go (`<dataDir>/tmp`): the server's data dir
   * (LABFORGE_DATA_DIR), passed by whoever read the configuration. Default `./data`, the
   * configuration's own default, so builders made without one share the lock with the server.
   */
  dataDir?: string;
  /** Debian mirror URL (LABFORGE_DEBIAN_MIRROR); default: the machine's apt configuration. */
  mirror?: string;
  /** Where recipes' release binaries come from instead of their official URLs (LABFORGE_DOWNLOAD_MIRROR): a folder or an http(s) URL. */
  downloadMirror?: string;
  /** How release binaries are fetched (tests); default: Node's fetch. */
  fetcher?: Fetcher;
  /**
   * Other engines of a fleet (lib/environments/fleet.ts): a missing image that one of them has
   * is copied from it (`docker save` streamed into `docker load`) instead of built or pulled again.
   */
  peers?: () => Array<{ name: string; docker: Dockerode }>;
}

export class ImageBuilder {
  private readonly docker: Dockerode;
  private readonly dataDir: string;
  private readonly mirror?: string;
  private readonly downloadMirror?: string;
  private readonly fetcher?: Fetcher;
  private readonly peers: () => Array<{ name: string; docker: Dockerode }>;
  /** One build per image in this process, shared by concurrent callers. */
  private readonly building = new Map<string, Promise<string>>();

  constructor(opts: ImageBuilderOptions = {}) {
    this.docker = opts.docker ?? new Dockerode();
    this.dataDir = path.resolve(opts.dataDir ?? 'data');
    this.mirror = opts.mirror;
    this.downloadMirror = opts.downloadMirror;
    this.fetcher = opts.fetcher;
    this.peers = opts.peers ?? (() => []);
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
    if (await this.copyFromPeer(ref, progress)) return ref;
    if (BUILTIN_IMAGES[image]) return this.build(image, progress);
    return this.pull(ref, progress);
  }

  /** Loads `ref` from the first peer engine that has it; false when none has (or answers). */
  private async copyFromPeer(ref: string, progress: ProgressFn): Promise<boolean> {
    for (const peer of this.peers()) {
      const has = await peer.docker
        .getImage(ref)
        .inspect()
        .then(() => true)
        .catch(() => false);
      if (!has) continue;
      let job = this.building.get(ref);
      if (!job) {
        job = this.copy(peer, ref, progress).finally(() => this.building.delete(ref));
        this.building.set(ref, job);
      }
      try {
        await job;
        return true;
      } catch (err) {
        log.warn({ image: ref, from: peer.name, err: (err as Error).message }, 'copying an image from another engine failed');
      }
    }
    return false;
  }

  private async copy(peer: { name: string; docker: Dockerode }, ref: string, progress: ProgressFn): Promise<string> {
    const step = `Copying image ${ref} from engine ${peer.name}`;
    const started = Date.now();
    progress({ step, status: 'running' });
    try {
      const tar = await peer.docker.getImage(ref).get();
      const out = await this.docker.loadImage(tar, { quiet: true });
      await new Promise<void>((resolve, reject) => this.docker.modem.followProgress(out, (err: Error | null) => (err ? reject(err) : resolve())));
      if (!(await this.imageExists(ref))) throw new EnvironmentError(`the engine did not keep ${ref} after loading it`);
      progress({ step, status: 'done', ms: Date.now() - started });
      log.info({ image: ref, from: peer.name, ms: Date.now() - started }, 'image copied from another engine');
      return ref;
    } catch (err) {
      progress({ step, status: 'failed', ms: Date.now() - started, detail: (err as Error).message });
      throw err;
    }
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

  /** Another process (a second test worker, the CLI) may build the same image: it waits for the lock and reuses the result. */
  private async buildLocked(name: string, ref: string, progress: ProgressFn): Promise<string> {
    const lock = path.join(this.dataDir, 'tmp', `build-${ref.replace(/[^a-z0-9]+/gi, '_')}.lock`);
    await withBuildLock(
      lock,
      {
        onWait: (pid) => progress({ step: `Building image ${name}`, status: 'running', detail: `waiting for the build in process ${pid}` }),
        built: () => this.imageExists(ref),
      },
      () => this.buildNow(name, ref, progress),
    );
    return ref;
  }

  private async buildNow(name: string, ref: string, progress: ProgressFn): Promise<void> {
    const recipe = BUILTIN_IMAGES[name];
    const step = `Building image ${name}`;
    const started = Date.now();
    const bin = which('debootstrap', { extraDirs: SBIN_DIRS });
    if (!bin) {
      progress({ step, status: 'failed', detail: 'debootstrap is not installed' });
      throw new EnvironmentError(`cannot build ${name}: debootstrap is not installed`, 'apt-get install debootstrap');
    }
    const mirror = this.mirror ?? machineMirror();
    if (!mirror) {
      throw new EnvironmentError(
        `cannot build ${name}: no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list`,
        'set LABFORGE_DEBIAN_MIRROR to a Debian mirror URL',
      );
    }
    const workdir = path.join(this.dataDir, 'tmp', `build-${randomBytes(4).toString('hex')}`);
    const rootfs = path.join(workdir, 'rootfs');
    await fs.mkdir(rootfs, { recursive: true });
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
      // Downloads first: where they cannot be had, say so before minutes of debootstrap.
      const binaries = await this.downloads(name, ref, recipe, (detail) => progress({ step, status: 'running', detail }));
      progress({ step, status: 'running', detail: `debootstrap ${recipe.suite} (${recipe.packages.length} packages)` });
      await debootstrap(bin, recipe, rootfs, mirror, onLine);
      await installBinaries(rootfs, binaries);
      await trimRootfs(rootfs);
      progress({ step, status: 'running', detail: 'importing into Docker' });
      await importRootfs(this.docker, rootfs, ref, recipe.changes);
      if (!(await this.imageExists(ref))) throw new Error(`docker import finished but ${ref} is not there`);
      const ms = Date.now() - started;
      progress({ step, status: 'done', ms });
      log.info({ ref, ms }, 'image built');
    } catch (err) {
      progress({ step, status: 'failed', ms: Date.now() - started, detail: (err as Error).message });
      if (err instanceof EnvironmentError) throw err;
      throw new EnvironmentError(`building image ${name} failed: ${(err as Error).message}`, 'check the Debian mirror and disk space, then retry');
    } finally {
      await removeRootfs(workdir);
    }
  }

  /** The recipe's release binaries for this machine's architecture, each verified against its pinned SHA-256. */
  private async downloads(name: string, ref: string, recipe: ImageRecipe, say: (detail: string) => void): Promise<VerifiedBinary[]> {
    if (!recipe.downloads?.length) return [];
    const arch = archOf();
    if (!arch) throw new EnvironmentError(`cannot build ${name} on ${process.arch}: its release binaries are pinned for amd64 and arm64 only`);
    return fetchPinnedBinaries(name, ref, recipe.downloads, {
      arch,
      mirror: this.downloadMirror,
      fetcher: this.fetcher,
      onFetch: (d, from) => say(`downloading ${d.name} ${d.version} from ${from}`),
    });
  }
}
