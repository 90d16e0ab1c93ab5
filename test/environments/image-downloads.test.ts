/**
 * Pinned release binaries of built-in images (lib/environments/images/downloads.ts): fetched with a
 * fake fetcher, so every outcome is tested here without a network: success (a plain binary and one
 * inside a .tar.gz), a checksum mismatch, an unpinned architecture, a host with no route to the
 * release servers (what the message tells the operator), and the download mirror (folder and URL).
 * Then the real pins: both architectures pinned, and in step with the Cilium the Kind lab installs.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvironmentError } from '../../lib/environments/driver';
import { packTar } from '../../lib/environments/docker/tar';
import { BUILTIN_IMAGES, resolveImage } from '../../lib/environments/images/build';
import {
  archOf,
  defaultFetcher,
  downloadFileName,
  fetchPinnedBinaries,
  readBounded,
  tarGzMember,
  type Fetcher,
  type PinnedDownload,
} from '../../lib/environments/images/downloads';
import { K8S_TOOLS } from '../../lib/environments/images/k8s-tools';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const kubectlBytes = Buffer.from('\x7fELF fake kubectl');
const helmBytes = Buffer.from('\x7fELF fake helm');
const helmTgz = gzipSync(
  packTar([
    { name: 'linux-amd64', type: 'dir', mode: 0o755 },
    { name: 'linux-amd64/LICENSE', type: 'file', mode: 0o644, content: Buffer.from('Apache') },
    { name: 'linux-amd64/helm', type: 'file', mode: 0o755, content: helmBytes },
  ]),
);

const kubectl: PinnedDownload = {
  name: 'kubectl',
  version: 'v1.0.0',
  url: 'https://dl.example.invalid/v1.0.0/{arch}/kubectl',
  sha256: { amd64: sha(kubectlBytes) },
};
const helm: PinnedDownload = {
  name: 'helm',
  version: 'v3.0.0',
  url: 'https://get.example.invalid/helm-v3.0.0-linux-{arch}.tar.gz',
  member: 'linux-{arch}/helm',
  sha256: { amd64: sha(helmTgz), arm64: sha(helmTgz) },
};
const files: Record<string, Uint8Array> = {
  'https://dl.example.invalid/v1.0.0/amd64/kubectl': kubectlBytes,
  'https://get.example.invalid/helm-v3.0.0-linux-amd64.tar.gz': helmTgz,
};

/** Serves `files`; anything else fails the way Node's fetch does without DNS. */
function fakeFetcher(served = files): Fetcher & { asked: string[] } {
  const asked: string[] = [];
  const f = async (url: string) => {
    asked.push(url);
    if (served[url]) return served[url];
    throw new TypeError('fetch failed', { cause: new Error(`getaddrinfo ENOTFOUND ${new URL(url).hostname}`) });
  };
  return Object.assign(f, { asked });
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The EnvironmentError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<EnvironmentError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EnvironmentError);
  return err as EnvironmentError;
}

describe('fetchPinnedBinaries', () => {
  it('returns each binary once its checksum matches, unpacked from its archive where it has one', async () => {
    const fetcher = fakeFetcher();
    const seen: string[] = [];
    const bins = await fetchPinnedBinaries('img', 'img:1', [kubectl, helm], { arch: 'amd64', fetcher, onFetch: (d, from) => seen.push(`${d.name} ${from}`) });
    expect(bins.map((b) => b.name)).toEqual(['kubectl', 'helm']);
    expect(bins[0].data.equals(kubectlBytes)).toBe(true);
    expect(bins[1].data.equals(helmBytes)).toBe(true);
    expect(seen).toEqual(['kubectl https://dl.example.invalid/v1.0.0/amd64/kubectl', 'helm https://get.example.invalid/helm-v3.0.0-linux-amd64.tar.gz']);
  });

  it('refuses a file whose SHA-256 is not the pinned one, naming both', async () => {
    const tampered = Buffer.from('\x7fELF something else');
    const fetcher = fakeFetcher({ ...files, 'https://dl.example.invalid/v1.0.0/amd64/kubectl': tampered });
    const err = await failure(fetchPinnedBinaries('img', 'img:1', [kubectl, helm], { arch: 'amd64', fetcher }));
    expect(err.message).toBe(
      `cannot build img: kubectl v1.0.0 from https://dl.example.invalid/v1.0.0/amd64/kubectl has SHA-256 ${sha(tampered)}, not the pinned ${sha(kubectlBytes)}; refusing to install it`,
    );
    expect(err.hint).toMatch(/damaged or is not that release/);
  });

  it('refuses to build for an architecture without a pinned checksum, before fetching anything', async () => {
    const fetcher = fakeFetcher();
    const err = await failure(fetchPinnedBinaries('img', 'img:1', [kubectl, helm], { arch: 'arm64', fetcher }));
    expect(err.message).toBe('cannot build img on linux/arm64: no pinned SHA-256 for kubectl v1.0.0, and nothing is installed unverified');
    expect(err.hint).toContain('https://dl.example.invalid/v1.0.0/arm64/kubectl');
    expect(fetcher.asked).toEqual([]);
  });

  it('offline: names every URL that failed and why, and what to do instead', async () => {
    const err = await failure(fetchPinnedBinaries('img', 'img:1', [kubectl, helm], { arch: 'amd64', fetcher: fakeFetcher({}) }));
    expect(err.message).toBe(
      'cannot build img: its release binaries could not be downloaded from the internet (' +
        'kubectl v1.0.0 from https://dl.example.invalid/v1.0.0/amd64/kubectl: getaddrinfo ENOTFOUND dl.example.invalid; ' +
        'helm v3.0.0 from https://get.example.invalid/helm-v3.0.0-linux-amd64.tar.gz: getaddrinfo ENOTFOUND get.example.invalid)',
    );
    expect(err.hint!.split('\n')).toEqual([
      'this host cannot fetch them. Either build the image with this Labforge version on a host that can (`labforge images build img`),',
      '`docker save img:1 -o image.tar` there and `docker load -i image.tar` here,',
      'or put these files in a folder here and set LABFORGE_DOWNLOAD_MIRROR to it (they are checked against the same pinned checksums):',
      '  curl -fLo kubectl-v1.0.0-linux-amd64 https://dl.example.invalid/v1.0.0/amd64/kubectl',
      '  curl -fLo helm-v3.0.0-linux-amd64.tar.gz https://get.example.invalid/helm-v3.0.0-linux-amd64.tar.gz',
    ]);
  });

  it('a mismatch wins over an unreachable file: the damaged one is the thing to fix', async () => {
    const fetcher = fakeFetcher({ 'https://get.example.invalid/helm-v3.0.0-linux-amd64.tar.gz': Buffer.from('not gzip') });
    const err = await failure(fetchPinnedBinaries('img', 'img:1', [kubectl, helm], { arch: 'amd64', fetcher }));
    expect(err.message).toMatch(/^cannot build img: helm v3.0.0 from \S+ has SHA-256 [0-9a-f]{64}, not the pinned/);
  });

  it('reads a mirror folder, under the names the message gives, verified the same way', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lf-downloads-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, downloadFileName(kubectl, 'amd64')), kubectlBytes);
    const fetcher = fakeFetcher();
    const [bin] = await fetchPinnedBinaries('img', 'img:1', [kubectl], { arch: 'amd64', mirror: dir, fetcher });
    expect(bin.data.equals(kubectlBytes)).toBe(true);
    expect(fetcher.asked).toEqual([]);
    const err = await failure(fetchPinnedBinaries('img', 'img:1', [helm], { arch: 'amd64', mirror: dir, fetcher }));
    expect(err.message).toContain(`from the download mirror ${dir} (helm v3.0.0 from ${path.join(dir, 'helm-v3.0.0-linux-amd64.tar.gz')}: ENOENT`);
  });

  it('asks a mirror URL for the same file names', async () => {
    const fetcher = fakeFetcher({ 'http://mirror.example.invalid/tools/helm-v3.0.0-linux-amd64.tar.gz': helmTgz });
    const [bin] = await fetchPinnedBinaries('img', 'img:1', [helm], { arch: 'amd64', mirror: 'http://mirror.example.invalid/tools/', fetcher });
    expect(bin.data.equals(helmBytes)).toBe(true);
  });

  it('says so when a verified archive lacks the binary', async () => {
    const other = gzipSync(packTar([{ name: 'README', type: 'file', mode: 0o644, content: Buffer.from('x') }]));
    const d = { ...helm, sha256: { amd64: sha(other) } };
    const err = await failure(
      fetchPinnedBinaries('img', 'img:1', [d], {
        arch: 'amd64',
        fetcher: fakeFetcher({ 'https://get.example.invalid/helm-v3.0.0-linux-amd64.tar.gz': other }),
      }),
    );
    expect(err.message).toBe(
      'cannot build img: helm v3.0.0 from https://get.example.invalid/helm-v3.0.0-linux-amd64.tar.gz has no file linux-amd64/helm in it',
    );
  });
});

describe('helpers', () => {
  it('maps Node architectures to the release names, and nothing else', () => {
    expect([archOf('x64'), archOf('arm64'), archOf('s390x')]).toEqual(['amd64', 'arm64', null]);
  });
  it('finds a member with or without a leading ./', async () => {
    const tgz = gzipSync(packTar([{ name: './hubble', type: 'file', mode: 0o755, content: Buffer.from('h') }]));
    expect((await tarGzMember(tgz, 'hubble'))?.toString()).toBe('h');
    expect(await tarGzMember(tgz, 'cilium')).toBeNull();
  });
  it('counts a body as it streams and cancels it past the limit, whatever length the server gave', async () => {
    let pulls = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull: (c) => void (pulls++, c.enqueue(new Uint8Array(4))),
      cancel: () => void (cancelled = true),
    });
    await expect(readBounded(endless, 10)).rejects.toThrow('larger than 10 bytes');
    expect(cancelled).toBe(true);
    expect(pulls).toBeLessThan(6);
  });
  it('fetches a body sent without a length (chunked) from a real server', async () => {
    const server = http.createServer((_, res) => {
      res.write('abc');
      res.end('def');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      expect(Buffer.from(await defaultFetcher(`http://127.0.0.1:${port}/f`)).toString()).toBe('abcdef');
      expect(await readBounded(new Response('x'.repeat(11)).body, 11)).toHaveLength(11);
    } finally {
      server.close();
    }
  });
});

describe('labforge/k8s-workstation', () => {
  const recipe = BUILTIN_IMAGES['labforge/k8s-workstation'];

  it('is a builtin with its own recipe tag; labforge/base downloads nothing', () => {
    expect(resolveImage('labforge/k8s-workstation')).toMatch(/^labforge\/k8s-workstation:[0-9a-f]{8}$/);
    expect(BUILTIN_IMAGES['labforge/base'].downloads).toBeUndefined();
    expect(recipe.packages).toEqual(expect.arrayContaining(['bash', 'procps', 'socat', 'jq', 'curl', 'ca-certificates', 'tmux', 'bash-completion']));
    // Debian's `yq` is kislyuk's jq wrapper, not yq v4: it must come as a download, never as a package.
    expect(recipe.packages).not.toContain('yq');
    expect(recipe.changes.some((c) => /^USER /.test(c))).toBe(false); // runs as root
  });

  it('pins kubectl, helm, cilium, hubble and yq v4 with real-looking checksums for amd64 and arm64, from official URLs', () => {
    expect(recipe.downloads!.map((d) => d.name)).toEqual(['kubectl', 'helm', 'cilium', 'hubble', 'yq']);
    for (const d of K8S_TOOLS) {
      expect(d.version).toMatch(/^v\d+\.\d+\.\d+$/);
      expect(d.url).toContain(d.version);
      expect(d.url).toMatch(/^https:\/\/(dl\.k8s\.io|get\.helm\.sh|github\.com\/(cilium|mikefarah))\//);
      expect(d.sha256.amd64).toMatch(/^[0-9a-f]{64}$/);
      expect(d.sha256.arm64).toMatch(/^[0-9a-f]{64}$/);
      expect(d.sha256.amd64).not.toBe(d.sha256.arm64);
    }
    expect(K8S_TOOLS.find((d) => d.name === 'yq')!.version).toMatch(/^v4\./);
  });

  it('has the hubble CLI of the Cilium minor version the Kind lab installs', () => {
    const track = parse(readFileSync(path.join(__dirname, '../../labs/cilium-multicast/track.yml'), 'utf8'));
    const cilium = track.environment.cluster.addons.find((a: { name: string }) => a.name === 'cilium');
    const minor = (v: string) => v.replace(/^v/, '').split('.').slice(0, 2).join('.');
    expect(minor(K8S_TOOLS.find((d) => d.name === 'hubble')!.version)).toBe(minor(cilium.version));
  });
});
