/**
 * Cluster images (kind/images.ts): references parsed and checked by the schema, the local engine
 * made to hold each image under the name the pods use (a fake engine records what it is asked),
 * and `kind load docker-image` of each into the nodes (a recording runner).
 */
import { describe, expect, it } from 'vitest';
import type { ProgressStep } from '../../lib/environments/driver';
import { resolveImage } from '../../lib/environments/images/build';
import type { CommandRunner } from '../../lib/environments/kind/command';
import { loadClusterImages, loadName, prepareClusterImages, type ImageEngine } from '../../lib/environments/kind/images';
import { formatImageRef, parseImageRef } from '../../lib/labs/image-ref';
import { environmentSchema } from '../../lib/labs/schema';

const DIGEST = `sha256:${'ab12'.repeat(16)}`;
const OTHER = `sha256:${'cd34'.repeat(16)}`;
const PINNED = `quay.io/cilium/cilium:v1.17.6@${DIGEST}`;

describe('image references', () => {
  it('splits name, tag and digest, a registry port included', () => {
    expect(parseImageRef(PINNED)).toEqual({ name: 'quay.io/cilium/cilium', tag: 'v1.17.6', digest: DIGEST });
    expect(parseImageRef('labforge/k8s-workstation')).toEqual({ name: 'labforge/k8s-workstation' });
    expect(parseImageRef('localhost:5000/team/app:1.2')).toEqual({ name: 'localhost:5000/team/app', tag: '1.2' });
    expect(parseImageRef(`kindest/node@${DIGEST}`)).toEqual({ name: 'kindest/node', digest: DIGEST });
    for (const ref of [PINNED, 'localhost:5000/team/app:1.2', 'busybox']) expect(formatImageRef(parseImageRef(ref) as never)).toBe(ref);
  });

  it('says what is wrong with a malformed one', () => {
    expect(parseImageRef('quay.io/cilium/cilium:v1.17.6@sha256:544de3')).toBe('"sha256:544de3" is not a digest: write sha256: and 64 lowercase hex digits');
    expect(parseImageRef('Quay.io/Cilium/cilium:v1')).toBe(
      '"Quay.io/Cilium/cilium" is not an image name (lowercase letters, digits, separators . _ -, path parts split by /)',
    );
    expect(parseImageRef('cilium:-v1')).toBe('"-v1" is not an image tag (letters, digits, _ . -, at most 128)');
  });

  it('are checked by the lab schema, with a pinned cluster image needing its tag', () => {
    const env = (cluster: Record<string, unknown>) =>
      environmentSchema.safeParse({
        driver: 'kind',
        cluster: { nodes: [{ role: 'control-plane' }], ...cluster },
        hosts: [{ name: 'ws', image: 'labforge/base' }],
      });
    const messages = (r: ReturnType<typeof env>) => (r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    expect(messages(env({ images: ['labforge/base', PINNED], nodeImage: `kindest/node:v1.32.8@${DIGEST}` }))).toEqual([]);
    expect(
      messages(env({ images: [`quay.io/cilium/cilium@${DIGEST}`, 'quay.io/cilium/cilium:v1@sha256:12'], nodeImage: 'kindest/node:v1.32.8@md5:1' })),
    ).toEqual([
      'cluster.nodeImage: "md5:1" is not a digest: write sha256: and 64 lowercase hex digits',
      'cluster.images.0: a pinned cluster image needs its tag too (name:tag@sha256:...): the pods refer to it by tag',
      'cluster.images.1: "sha256:12" is not a digest: write sha256: and 64 lowercase hex digits',
    ]);
  });
});

/** An engine holding `images` (ref -> {id, repoDigests}); records tags and builds. */
function fakeEngine(images: Record<string, { id: string; repoDigests?: string[] }>) {
  const calls: string[] = [];
  const engine: ImageEngine = {
    inspect: async (ref) => {
      const img = images[ref];
      return img ? { id: img.id, repoDigests: img.repoDigests ?? [] } : null;
    },
    tag: async (ref, repo, tag) => {
      calls.push(`tag ${ref} ${repo}:${tag}`);
    },
    ensureBuiltin: async (image) => {
      calls.push(`ensure ${image}`);
      return resolveImage(image);
    },
  };
  return { engine, calls };
}

describe('prepareClusterImages', () => {
  it('tags a pinned image found by its digest with its tag, so kind loads what the chart names', async () => {
    const { engine, calls } = fakeEngine({ [`quay.io/cilium/cilium@${DIGEST}`]: { id: 'sha256:1' } });
    await prepareClusterImages(engine, [PINNED], () => {});
    expect(calls).toEqual([`tag quay.io/cilium/cilium@${DIGEST} quay.io/cilium/cilium:v1.17.6`]);
  });

  it('builds a built-in image and tags it :latest; takes any other image as it is', async () => {
    const { engine, calls } = fakeEngine({ 'registry.example/app:1': { id: 'sha256:2' } });
    await prepareClusterImages(engine, ['labforge/base', 'registry.example/app:1'], () => {});
    expect(calls).toEqual(['ensure labforge/base', `tag ${resolveImage('labforge/base')} labforge/base:latest`]);
  });

  it('uses an image loaded without its registry digest by its tag (docker load drops digests)', async () => {
    const { engine, calls } = fakeEngine({ 'quay.io/cilium/cilium:v1.17.6': { id: 'sha256:3', repoDigests: [] } });
    await prepareClusterImages(engine, [PINNED], () => {});
    expect(calls).toEqual([]);
  });

  it('refuses, naming them, images that are missing and tags that hold another digest', async () => {
    const { engine } = fakeEngine({
      'quay.io/cilium/hubble-relay:v1.17.6': { id: 'sha256:4', repoDigests: [`quay.io/cilium/hubble-relay@${OTHER}`] },
    });
    const relay = `quay.io/cilium/hubble-relay:v1.17.6@${DIGEST}`;
    const err = await prepareClusterImages(engine, [PINNED, relay, 'labforge/not-here:none'], () => {}).catch((e: Error) => e);
    expect(err).toMatchObject({
      name: 'EnvironmentError',
      message: `cluster images not in the local Docker engine: ${PINNED}, labforge/not-here:none; the local Docker engine has another image under the tag of: ${relay}`,
      hint: expect.stringContaining('docker pull each of them, exactly as listed'),
    });
  });
});

describe('loadClusterImages', () => {
  it('loads every image into the cluster by the name its pods use, reporting each', async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (cmd, args) => (calls.push([cmd, ...args].join(' ')), { code: 0, stdout: '', stderr: '' });
    const progress: ProgressStep[] = [];
    await loadClusterImages(run, 'lf-abc', ['labforge/k8s-workstation', PINNED], { progress: (p) => progress.push(p) });
    expect(calls).toEqual([
      'kind load docker-image labforge/k8s-workstation --name lf-abc',
      'kind load docker-image quay.io/cilium/cilium:v1.17.6 --name lf-abc',
    ]);
    expect(progress.map((p) => p.detail)).toEqual(['labforge/k8s-workstation', 'quay.io/cilium/cilium:v1.17.6']);
    expect(loadName(`kindest/node@${DIGEST}`)).toBe(`kindest/node@${DIGEST}`);
  });

  it('fails with what kind said', async () => {
    const run: CommandRunner = async () => ({ code: 1, stdout: '', stderr: 'ERROR: image: "quay.io/cilium/cilium:v1.17.6" not present locally\n' });
    await expect(loadClusterImages(run, 'lf-abc', [PINNED], { progress: () => {} })).rejects.toThrow(
      'loading image quay.io/cilium/cilium:v1.17.6 into lf-abc failed (kind exited with 1): ERROR: image: "quay.io/cilium/cilium:v1.17.6" not present locally',
    );
  });
});
