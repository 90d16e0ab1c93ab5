/**
 * Release binaries a built-in image needs beyond Debian's packages (kubectl, helm, ...): fetched at
 * build time from their official URLs and installed only when their SHA-256 is the one pinned in
 * the recipe. A binary without a pinned checksum for this machine's architecture is refused, never
 * installed unverified. Where the official URLs are out of reach, a mirror (LABFORGE_DOWNLOAD_MIRROR:
 * a folder, or an http(s) URL) serves the same files under the names downloadFileName() gives; they
 * are verified against the same checksums.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { EnvironmentError } from '../driver';

export type Arch = 'amd64' | 'arm64';

export interface PinnedDownload {
  /** The command it installs, as /usr/local/bin/<name>. */
  name: string;
  /** The release, with its `v`: `v1.33.3`. */
  version: string;
  /** The official release URL; `{arch}` becomes amd64 or arm64. */
  url: string;
  /** SHA-256 (hex) of the file at `url`, per architecture. An architecture without one is refused. */
  sha256: Partial<Record<Arch, string>>;
  /** The binary's path inside the .tar.gz at `url` (`{arch}` replaced); absent: the file is the binary. */
  member?: string;
}

/** The bytes at a URL; rejects on any failure (no network, an HTTP error status). */
export type Fetcher = (url: string) => Promise<Uint8Array>;

export interface DownloadOptions {
  arch: Arch;
  /** A folder or an http(s) URL with the files named by downloadFileName(), used instead of the official URLs. */
  mirror?: string;
  /** Default: Node's fetch, 10 minutes per file. */
  fetcher?: Fetcher;
  /** Called as each file is requested: what and from where. */
  onFetch?: (d: PinnedDownload, from: string) => void;
}

export interface VerifiedBinary {
  name: string;
  data: Buffer;
}

/** Largest file accepted: the pinned ones are 15–60 MB. */
const MAX_BYTES = 256 * 1024 * 1024;

/** Node's `process.arch` as Debian and the release URLs name it, or null where nothing is pinned. */
export function archOf(nodeArch: string = process.arch): Arch | null {
  return nodeArch === 'x64' ? 'amd64' : nodeArch === 'arm64' ? 'arm64' : null;
}

export const officialUrl = (d: PinnedDownload, arch: Arch) => d.url.replaceAll('{arch}', arch);

/** The name a mirror holds the file under: `kubectl-v1.33.3-linux-amd64`, `helm-v3.18.4-linux-amd64.tar.gz`. */
export function downloadFileName(d: PinnedDownload, arch: Arch): string {
  return `${d.name}-${d.version}-linux-${arch}${d.member ? '.tar.gz' : ''}`;
}

export const defaultFetcher: Fetcher = async (url) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(10 * 60_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
  if (Number(res.headers.get('content-length')) > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
  return readBounded(res.body, MAX_BYTES);
};

/**
 * A response body, counted as it streams: one past `max` bytes is cancelled there, so a server
 * that sends no length (or a wrong one) cannot make us hold more than `max`.
 */
export async function readBounded(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Thrown for a file that could not be had at all (as opposed to one that came and failed verification). */
class Unreachable extends Error {}

/** The reason a fetch failed, in words: Node's `fetch failed` hides it in `cause`. */
function reasonOf(err: unknown): string {
  const e = err as Error & { cause?: { message?: string } };
  return e.cause?.message ?? e.message ?? String(err);
}

async function fetchFile(d: PinnedDownload, opts: DownloadOptions): Promise<{ from: string; bytes: Uint8Array }> {
  const file = downloadFileName(d, opts.arch);
  const mirror = opts.mirror?.replace(/\/+$/, '');
  const remote = !mirror || /^https?:\/\//.test(mirror);
  const from = !mirror ? officialUrl(d, opts.arch) : remote ? `${mirror}/${file}` : path.join(mirror, file);
  opts.onFetch?.(d, from);
  try {
    if (!remote && (await fs.stat(from)).size > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
    const bytes = remote ? await (opts.fetcher ?? defaultFetcher)(from) : await fs.readFile(from);
    if (bytes.byteLength > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
    return { from, bytes };
  } catch (err) {
    throw new Unreachable(`${d.name} ${d.version} from ${from}: ${reasonOf(err)}`);
  }
}

/** The one member of a .tar.gz, or null when it has no such regular file. */
export async function tarGzMember(tgz: Uint8Array, member: string): Promise<Buffer | null> {
  const tar = extract();
  let found: Buffer | null = null;
  const done = new Promise<void>((resolve, reject) => {
    tar.on('entry', (header, stream, next) => {
      const wanted = header.type === 'file' && header.name.replace(/^\.\//, '') === member;
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        if (wanted) chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        if (wanted) found = Buffer.concat(chunks);
        next();
      });
      stream.on('error', reject);
    });
    tar.on('finish', resolve);
    tar.on('error', reject);
  });
  tar.end(gunzipSync(tgz));
  await done;
  return found;
}

/** One file, fetched, checked against its pinned SHA-256, and unpacked when it is an archive. */
async function fetchVerified(image: string, d: PinnedDownload, opts: DownloadOptions): Promise<VerifiedBinary> {
  const expected = d.sha256[opts.arch]!.toLowerCase();
  const { from, bytes } = await fetchFile(d, opts);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== expected) {
    throw new EnvironmentError(
      `cannot build ${image}: ${d.name} ${d.version} from ${from} has SHA-256 ${actual}, not the pinned ${expected}; refusing to install it`,
      `the file is damaged or is not that release: remove it from the mirror and fetch it again from ${officialUrl(d, opts.arch)}`,
    );
  }
  if (!d.member) return { name: d.name, data: Buffer.from(bytes) };
  const member = d.member.replaceAll('{arch}', opts.arch);
  const data = await tarGzMember(bytes, member).catch(() => null);
  if (!data) throw new EnvironmentError(`cannot build ${image}: ${d.name} ${d.version} from ${from} has no file ${member} in it`);
  return { name: d.name, data };
}

/**
 * Every download of an image's recipe, verified, for `opts.arch`. Fails before fetching anything
 * when a checksum is missing, and names every file that could not be had, with what to do.
 * `ref`: the image's tag, for the `docker save | docker load` advice.
 */
export async function fetchPinnedBinaries(image: string, ref: string, downloads: PinnedDownload[], opts: DownloadOptions): Promise<VerifiedBinary[]> {
  const unpinned = downloads.filter((d) => !/^[0-9a-f]{64}$/i.test(d.sha256[opts.arch] ?? ''));
  if (unpinned.length) {
    throw new EnvironmentError(
      `cannot build ${image} on linux/${opts.arch}: no pinned SHA-256 for ${unpinned.map((d) => `${d.name} ${d.version}`).join(', ')}, and nothing is installed unverified`,
      `add the checksum of ${unpinned.map((d) => officialUrl(d, opts.arch)).join(' and ')}, copied from the project's published checksums, to lib/environments/images/k8s-tools.ts; or build ${image} on an amd64 host`,
    );
  }
  const results = await Promise.allSettled(downloads.map((d) => fetchVerified(image, d, opts)));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  const broken = failed.find((e) => !(e instanceof Unreachable));
  if (broken) throw broken;
  if (failed.length) {
    const missing = downloads.filter((_, i) => results[i].status === 'rejected');
    const where = opts.mirror ? `the download mirror ${opts.mirror}` : 'the internet';
    throw new EnvironmentError(
      `cannot build ${image}: its release binaries could not be downloaded from ${where} (${failed.map((e) => e.message).join('; ')})`,
      [
        `this host cannot fetch them. Either build the image with this Labforge version on a host that can (\`labforge images build ${image}\`),`,
        `\`docker save ${ref} -o image.tar\` there and \`docker load -i image.tar\` here,`,
        `or put these files in a folder here and set LABFORGE_DOWNLOAD_MIRROR to it (they are checked against the same pinned checksums):`,
        ...missing.map((d) => `  curl -fLo ${downloadFileName(d, opts.arch)} ${officialUrl(d, opts.arch)}`),
      ].join('\n'),
    );
  }
  return results.map((r) => (r as PromiseFulfilledResult<VerifiedBinary>).value);
}
