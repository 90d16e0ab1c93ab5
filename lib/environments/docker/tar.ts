/**
 * Tar for the Docker archive API. Writing (putArchive): a minimal in-memory writer, regular files,
 * directories and symlinks, long names through pax headers; what it writes is small (lab files, an
 * editor save). Reading (getArchive): a stream through tar-stream, only the first entry, never
 * more than the caller's byte limit held in memory.
 */
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';

export interface TarEntry {
  /** Path inside the archive, without a leading slash (e.g. `root/notes.txt`). */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  /** Permission bits, e.g. 0o644. */
  mode: number;
  content?: Buffer;
  linkname?: string;
  uid?: number;
  gid?: number;
  mtime?: number;
}

const BLOCK = 512;
const TYPE_FLAG = { file: '0', dir: '5', symlink: '2' } as const;

function octal(value: number, width: number): string {
  // width includes the trailing NUL
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(fields: { name: string; mode: number; size: number; type: string; linkname?: string; uid: number; gid: number; mtime: number }): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(fields.name, 0, 100, 'utf8');
  h.write(octal(fields.mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(fields.uid, 8), 108, 'ascii');
  h.write(octal(fields.gid, 8), 116, 'ascii');
  h.write(octal(fields.size, 12), 124, 'ascii');
  h.write(octal(fields.mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum is computed with this field as spaces
  h.write(fields.type, 156, 'ascii');
  if (fields.linkname) h.write(fields.linkname, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest === 0 ? [data] : [data, Buffer.alloc(BLOCK - rest)];
}

/** A pax record is `<len> key=value\n` where len counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

export function packTar(entries: TarEntry[]): Buffer {
  const out: Buffer[] = [];
  const now = Math.floor(Date.now() / 1000);
  for (const e of entries) {
    const name = e.type === 'dir' && !e.name.endsWith('/') ? `${e.name}/` : e.name;
    const content = e.type === 'file' ? (e.content ?? Buffer.alloc(0)) : Buffer.alloc(0);
    const base = { uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? now };
    const pax: string[] = [];
    if (Buffer.byteLength(name) > 99) pax.push(paxRecord('path', name));
    if (e.linkname && Buffer.byteLength(e.linkname) > 99) pax.push(paxRecord('linkpath', e.linkname));
    if (pax.length) {
      const body = Buffer.from(pax.join(''), 'utf8');
      out.push(header({ ...base, name: 'PaxHeader', mode: 0o644, size: body.length, type: 'x' }), ...padded(body));
    }
    out.push(header({ ...base, name, mode: e.mode, size: content.length, type: TYPE_FLAG[e.type], linkname: e.linkname }));
    if (content.length) out.push(...padded(content));
  }
  out.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(out);
}

export interface FirstEntry {
  name: string;
  /** tar-stream's type: 'file', 'directory', 'symlink', 'character-device', 'fifo', ... */
  type: string;
  size: number;
  linkname: string;
  /** Only for a regular file ('file' or 'contiguous-file'). */
  content?: Buffer;
}

/** The archive's first entry is a file larger than the limit (by its header, or by what streamed). */
export class TarLimitError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`the archive's file is ${size} bytes, more than the ${limit} allowed`);
    this.name = 'TarLimitError';
  }
}

/**
 * Reads the first entry of a tar stream and stops: a regular file's content up to `maxBytes`
 * (TarLimitError past it: by the header's size before any content, and by counting while it
 * streams), other types as a header only. `source` is destroyed in every case, so an HTTP
 * response stops downloading. Undefined for an empty archive.
 */
export async function readFirstEntry(source: Readable, maxBytes: number): Promise<FirstEntry | undefined> {
  const ex = extract();
  source.on('error', (err) => ex.destroy(err));
  source.pipe(ex);
  try {
    for await (const entry of ex) {
      const h = entry.header;
      const head = { name: h.name, type: h.type ?? 'file', size: h.size ?? 0, linkname: h.linkname ?? '' };
      if (head.type !== 'file' && head.type !== 'contiguous-file') return head;
      if (head.size > maxBytes) throw new TarLimitError(head.size, maxBytes);
      const chunks: Buffer[] = [];
      let got = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        got += chunk.length;
        if (got > maxBytes) throw new TarLimitError(got, maxBytes);
        chunks.push(chunk);
      }
      return { ...head, content: Buffer.concat(chunks, got) };
    }
    return undefined;
  } finally {
    source.unpipe(ex);
    source.destroy();
    ex.destroy();
  }
}
