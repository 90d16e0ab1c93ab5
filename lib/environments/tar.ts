/**
 * A minimal tar writer and reader for the Docker archive API (putArchive / getArchive).
 * Only what we need: regular files, directories and symlinks; long names through pax
 * headers on write, pax and GNU long-name headers on read. Everything is in memory:
 * lab files and files read back for checks are small.
 */

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

function cString(buf: Buffer, start: number, len: number): string {
  const slice = buf.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

function readOctal(buf: Buffer, start: number, len: number): number {
  // Base-256 (high bit set) is used for values that do not fit in octal.
  if (buf[start] & 0x80) {
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + buf[i];
    return v;
  }
  const s = cString(buf, start, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const space = body.indexOf(0x20, i);
    if (space === -1) break;
    const len = parseInt(body.subarray(i, space).toString('ascii'), 10);
    if (!len) break;
    const record = body.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

export interface ReadEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  size: number;
  linkname: string;
  content: Buffer;
}

/** Parses a whole tar archive held in memory. */
export function unpackTar(buf: Buffer): ReadEntry[] {
  const entries: ReadEntry[] = [];
  let offset = 0;
  let pending: Record<string, string> = {};
  while (offset + BLOCK <= buf.length) {
    const h = buf.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    const typeflag = String.fromCharCode(h[156] || 0x30);
    let size = readOctal(h, 124, 12);
    if (pending.size) size = Number(pending.size);
    const dataStart = offset + BLOCK;
    const data = buf.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x') {
      pending = { ...pending, ...parsePax(data) };
      continue;
    }
    if (typeflag === 'g') continue;
    if (typeflag === 'L' || typeflag === 'K') {
      pending[typeflag === 'L' ? 'path' : 'linkpath'] = cString(data, 0, data.length);
      continue;
    }
    const prefix = h.subarray(257, 263).toString('ascii').startsWith('ustar') ? cString(h, 345, 155) : '';
    const plain = cString(h, 0, 100);
    const name = pending.path ?? (prefix ? `${prefix}/${plain}` : plain);
    const type = typeflag === '0' || typeflag === '\0' || typeflag === '7' ? 'file' : typeflag === '5' ? 'dir' : typeflag === '2' ? 'symlink' : 'other';
    entries.push({ name, type, mode: readOctal(h, 100, 8), size, linkname: pending.linkpath ?? cString(h, 157, 100), content: Buffer.from(data) });
    pending = {};
  }
  return entries;
}
