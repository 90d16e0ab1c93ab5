/**
 * A lab's cluster images (`cluster.images`): made ready on the local Docker engine under the name
 * the pods use, then loaded into every node with `kind load docker-image`, so no node pulls
 * anything inside the readiness deadline (an offline host never would).
 *
 * Three kinds of entries:
 * - a built-in image (`labforge/base`, ...): built if needed, tagged `<name>:latest`;
 * - a pinned one, `name:tag@sha256:...`: the engine must hold that digest; it is tagged
 *   `name:tag` (a pull by digest makes no tag) and loaded by tag, which is how charts refer to
 *   it (kind load keeps tags, not registry digests: kind#4028);
 * - anything else: must already be on the engine under that name.
 */
import { log as rootLog } from '../../base/log';
import { parseImageRef } from '../../labs/image-ref';
import { EnvironmentError, type ProgressFn } from '../driver';
import type { DockerDriver } from '../docker/driver';
import { resolveImage } from '../images/build';
import { mustRun, type CommandRunner } from './command';

const log = rootLog.child({ module: 'kind' });

/** What preparing images needs from the engine; DockerDriver-backed in production (engineOf), a fake in tests. */
export interface ImageEngine {
  /** The local image a reference names (by tag or by digest), or null when the engine has none. */
  inspect(ref: string): Promise<{ id: string; repoDigests: string[] } | null>;
  tag(ref: string, repo: string, tag: string): Promise<void>;
  /** Builds a built-in image if missing; returns its concrete reference. */
  ensureBuiltin(image: string, progress: ProgressFn): Promise<string>;
}

export function engineOf(docker: DockerDriver): ImageEngine {
  return {
    inspect: async (ref) => {
      try {
        const info = await docker.docker.getImage(ref).inspect();
        return { id: info.Id, repoDigests: info.RepoDigests ?? [] };
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return null;
        throw err;
      }
    },
    tag: async (ref, repo, tag) => {
      await docker.docker.getImage(ref).tag({ repo, tag });
    },
    ensureBuiltin: (image, progress) => docker.images.ensure(image, progress),
  };
}

/** The name an image is loaded under and the pods use: `name:tag` for a pinned one, the entry itself otherwise. */
export function loadName(image: string): string {
  const ref = parseImageRef(image);
  return typeof ref !== 'string' && ref.digest && ref.tag ? `${ref.name}:${ref.tag}` : image;
}

/**
 * Every cluster image on the engine under its load name. Fails before the slow cluster creation,
 * naming every image that is missing or is not the pinned one.
 */
export async function prepareClusterImages(engine: ImageEngine, images: string[], progress: ProgressFn): Promise<void> {
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const image of images) {
    const builtin = resolveImage(image);
    if (builtin !== image) {
      await engine.ensureBuiltin(image, progress);
      await engine.tag(builtin, image, 'latest');
      continue;
    }
    const ref = parseImageRef(image);
    if (typeof ref === 'string' || !ref.digest || !ref.tag) {
      if (!(await engine.inspect(image))) missing.push(image);
      continue;
    }
    const byDigest = `${ref.name}@${ref.digest}`;
    if (await engine.inspect(byDigest)) {
      // Whatever the tag pointed at before, it now names the pinned image.
      await engine.tag(byDigest, ref.name, ref.tag);
      continue;
    }
    const byTag = await engine.inspect(`${ref.name}:${ref.tag}`);
    if (!byTag) missing.push(image);
    else if (byTag.repoDigests.some((d) => d.startsWith(`${ref.name}@`))) wrong.push(image);
    // `docker load` drops registry digests: an image with none cannot be checked, only trusted.
    else log.warn({ image, id: byTag.id }, 'cluster image has no registry digest to check (docker load drops it): using it by tag');
  }
  const problems: string[] = [];
  if (missing.length) problems.push(`cluster image${missing.length > 1 ? 's' : ''} not in the local Docker engine: ${missing.join(', ')}`);
  if (wrong.length) problems.push(`the local Docker engine has another image under the tag of: ${wrong.join(', ')}`);
  if (problems.length) {
    throw new EnvironmentError(
      problems.join('; '),
      `docker pull each of them, exactly as listed (or docker load them), before starting the lab: they are loaded into the kind nodes so sessions pull nothing`,
    );
  }
}

/** `kind load docker-image` of every cluster image into every node of the cluster, one image at a time (one progress line each). */
export async function loadClusterImages(
  run: CommandRunner,
  cluster: string,
  images: string[],
  hooks: { progress: ProgressFn; signal?: AbortSignal },
): Promise<void> {
  for (const image of images) {
    const name = loadName(image);
    hooks.progress({ step: 'Loading images', status: 'running', detail: name });
    await mustRun(run, `loading image ${name} into ${cluster}`, 'kind', ['load', 'docker-image', name, '--name', cluster], { signal: hooks.signal });
  }
}
