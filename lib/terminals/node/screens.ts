/**
 * Terminal screens kept on disk, so a learner's screen survives the server
 * process (a SIGKILL, a crash, a restart). The replay buffer lives in memory;
 * this keeps a copy of it per terminal tab under the data dir:
 *
 *   <dir>/<session>/<tab>.screen   = one JSON header line + the replay's bytes
 *
 * - Bounded like the replay buffer (the newest `maxBytes` bytes); a file larger
 *   than that plus its header is refused before a byte of it is read.
 * - Written throttled (at most once per `everyMs` per terminal, and once more on
 *   a clean shutdown), atomically: a temp file renamed over the old one, so a
 *   kill mid-write leaves the previous screen, never half of one.
 * - Every operation on one file runs in order (a per-file queue): a terminal
 *   that ends removes its file before a new terminal for the same tab looks.
 * - Removed when the terminal ends for good (shell exit, grace over, session
 *   ended) and with its session's folder when the lab session ends.
 *
 * No fsync: a process kill cannot lose what rename() published (the page cache
 * survives it); a power cut may, and then the header's byte count no longer
 * matches and the file is ignored.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../base/log';
import { DEFAULT_REPLAY_BYTES } from './replay';

/** Room for the header line in front of the bytes. */
const HEADER_MAX_BYTES = 1024;
export const SCREEN_WRITE_EVERY_MS = 1000;

/**
 * What a restored screen is followed by: cancel a half-written escape sequence,
 * reset colours, leave the alternate screen (an editor was open), show the
 * cursor, turn off mouse reporting and bracketed paste, then the note.
 */
export const RESTART_NOTE =
  '\x18\x1b[0m\x1b[?1047l\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1l\x1b>' +
  '\r\n\x1b[1;33m[labforge: the platform restarted; your previous shell ended \u2014 a new one started]\x1b[0m\r\n';

/** Size of the pieces a restored screen enters the replay buffer in. */
const RESTORE_PIECE_BYTES = 64 * 1024;

/**
 * The start of a restored terminal's stream: the saved screen, then the note. In pieces: the
 * replay buffer drops whole chunks from its front, so the old screen ages out gradually.
 */
export function restoredStream(saved: SavedScreen): Uint8Array[] {
  const bytes = Buffer.concat([saved.bytes, Buffer.from(RESTART_NOTE)]);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += RESTORE_PIECE_BYTES) out.push(bytes.subarray(at, at + RESTORE_PIECE_BYTES));
  return out;
}

interface Header {
  v: 1;
  session: string;
  tab: string;
  /** The terminal that drew it: a restarted server ends that shell's processes in the host. */
  terminal: string;
  savedAt: string;
  bytes: number;
}

/** A screen saved by an earlier server process. */
export interface SavedScreen {
  bytes: Uint8Array;
  /** Id of the terminal that drew it (its processes may still run in the host). */
  terminalId: string;
}

export interface ScreenStoreOptions {
  /** Newest bytes kept (the replay buffer's bound). */
  maxBytes?: number;
  everyMs?: number;
}

export class ScreenStore {
  readonly maxBytes: number;
  readonly everyMs: number;
  private readonly log: Logger;
  /** The last queued operation per file (or per session folder). */
  private readonly queue = new Map<string, Promise<void>>();
  private tmpSeq = 0;

  constructor(
    readonly dir: string,
    log: Logger,
    opts: ScreenStoreOptions = {},
  ) {
    this.log = log.child({ module: 'screens' });
    this.maxBytes = opts.maxBytes ?? DEFAULT_REPLAY_BYTES;
    this.everyMs = opts.everyMs ?? SCREEN_WRITE_EVERY_MS;
  }

  fileOf(sessionId: string, tab: string): string {
    return path.join(this.dir, safeName(sessionId), `${safeName(tab)}.screen`);
  }

  /** The saved screen of a tab, or undefined (none, too big, damaged: each logged, never thrown). */
  load(sessionId: string, tab: string): Promise<SavedScreen | undefined> {
    const file = this.fileOf(sessionId, tab);
    let out: SavedScreen | undefined;
    return this.run(file, async () => {
      out = await this.read(file, sessionId, tab).catch((err: Error) => {
        this.log.warn({ file, err: err.message }, 'could not read a saved terminal screen');
        return undefined;
      });
    }).then(() => out);
  }

  private async read(file: string, sessionId: string, tab: string): Promise<SavedScreen | undefined> {
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ file, err: (err as Error).message }, 'could not open a saved terminal screen');
      return undefined;
    }
    try {
      // Size first: the file is ours, but a damaged or planted one must not be read whole.
      const { size } = await fh.stat();
      const limit = this.maxBytes + HEADER_MAX_BYTES;
      if (size > limit) {
        this.log.warn({ file, size, limit }, 'saved terminal screen is larger than a screen can be; ignored');
        return undefined;
      }
      const buf = Buffer.alloc(size);
      const { bytesRead } = await fh.read(buf, 0, size, 0);
      const nl = buf.subarray(0, Math.min(bytesRead, HEADER_MAX_BYTES)).indexOf(0x0a);
      const header = nl > 0 ? parseHeader(buf.subarray(0, nl).toString('utf8')) : undefined;
      const body = buf.subarray(nl + 1, bytesRead);
      if (!header || header.session !== sessionId || header.tab !== tab || header.bytes !== body.length || body.length > this.maxBytes) {
        this.log.warn({ file, size }, 'saved terminal screen is damaged; ignored');
        return undefined;
      }
      return { bytes: body, terminalId: header.terminal };
    } finally {
      await fh.close();
    }
  }

  /** A throttled writer of one terminal's screen; `snapshot` returns its replay as chunks, oldest first. */
  keeper(sessionId: string, tab: string, terminalId: string, snapshot: () => Uint8Array[]): ScreenKeeper {
    return new ScreenKeeper(this, sessionId, tab, terminalId, snapshot);
  }

  /** Atomically replaces the tab's file with (the newest maxBytes of) `chunks`. Called through a keeper. */
  save(sessionId: string, tab: string, terminalId: string, chunks: Uint8Array[]): Promise<void> {
    // Copied now, synchronously: the replay's buffers are recycled once trimmed.
    const body = newest(chunks, this.maxBytes);
    const file = this.fileOf(sessionId, tab);
    return this.run(file, async () => {
      const header: Header = { v: 1, session: sessionId, tab, terminal: terminalId, savedAt: new Date().toISOString(), bytes: body.length };
      const tmp = `${file}.${process.pid}.${++this.tmpSeq}.tmp`;
      try {
        // 0700/0600: a screen may show whatever the learner typed or printed (passwords, keys).
        await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
        await fs.promises.writeFile(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]), { mode: 0o600 });
        await fs.promises.rename(tmp, file);
      } catch (err) {
        // A full or read-only disk costs the saved screen, never the live terminal.
        this.log.warn({ file, err: (err as Error).message }, 'could not save a terminal screen');
        await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
      }
    });
  }

  remove(sessionId: string, tab: string): Promise<void> {
    const file = this.fileOf(sessionId, tab);
    return this.run(file, () =>
      fs.promises.rm(file, { force: true }).catch((err: Error) => this.log.warn({ file, err: err.message }, 'could not remove a terminal screen')),
    );
  }

  /** Removes every screen of a lab session (it ended), after whatever is queued for them. */
  async removeSession(sessionId: string): Promise<void> {
    const folder = path.join(this.dir, safeName(sessionId));
    await Promise.all([...this.queue].filter(([f]) => f.startsWith(folder + path.sep)).map(([, p]) => p));
    await fs.promises
      .rm(folder, { recursive: true, force: true })
      .catch((err: Error) => this.log.warn({ folder, err: err.message }, 'could not remove terminal screens'));
  }

  /** Removes the folders of sessions not in `live` (ended while this server was not running). */
  async sweep(live: Set<string>): Promise<number> {
    const names = await fs.promises.readdir(this.dir).catch(() => [] as string[]);
    const keep = new Set([...live].map(safeName));
    const gone = names.filter((n) => !keep.has(n));
    for (const n of gone) await fs.promises.rm(path.join(this.dir, n), { recursive: true, force: true }).catch(() => undefined);
    if (gone.length) this.log.info({ removed: gone.length }, 'removed the saved screens of sessions that ended');
    return gone.length;
  }

  /** Runs `op` after every operation queued for `file`; the queue entry goes when it is the last. */
  private run(file: string, op: () => Promise<void>): Promise<void> {
    const next = (this.queue.get(file) ?? Promise.resolve()).then(op, op);
    this.queue.set(file, next);
    void next.finally(() => {
      if (this.queue.get(file) === next) this.queue.delete(file);
    });
    return next;
  }
}

/**
 * One terminal's writer: `changed()` after output (a write within `everyMs`,
 * never more often), `flush()` on a clean shutdown, `discard()` when the
 * terminal ends for good. Nothing is written after flush or discard.
 */
export class ScreenKeeper {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private done = false;
  private lastWriteAt = -Infinity;

  constructor(
    private readonly store: ScreenStore,
    private readonly sessionId: string,
    private readonly tab: string,
    private readonly terminalId: string,
    private readonly snapshot: () => Uint8Array[],
  ) {}

  changed(): void {
    if (this.done) return;
    this.dirty = true;
    if (this.timer) return;
    const wait = Math.max(0, this.lastWriteAt + this.store.everyMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, wait);
    this.timer.unref();
  }

  /** Writes what is unsaved now and stops (the server is shutting down cleanly). */
  flush(): Promise<void> {
    if (this.done) return Promise.resolve();
    this.stop();
    return this.dirty ? this.write(true) : Promise.resolve();
  }

  /** Stops and removes the file: this terminal's screen is not wanted back. */
  discard(): Promise<void> {
    if (this.done) return Promise.resolve();
    this.stop();
    return this.store.remove(this.sessionId, this.tab);
  }

  private stop(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private write(final = false): Promise<void> {
    if (this.done && !final) return Promise.resolve();
    this.dirty = false;
    this.lastWriteAt = Date.now();
    return this.store.save(this.sessionId, this.tab, this.terminalId, this.snapshot());
  }
}

/** The newest `max` bytes of `chunks`, in one new buffer. */
function newest(chunks: Uint8Array[], max: number): Buffer {
  let total = 0;
  let i = chunks.length;
  while (i > 0 && total < max) total += chunks[--i].length;
  const all = Buffer.concat(chunks.slice(i));
  return all.length > max ? Buffer.from(all.subarray(all.length - max)) : all;
}

function parseHeader(line: string): Header | undefined {
  try {
    const h = JSON.parse(line) as Partial<Header>;
    if (h.v === 1 && typeof h.session === 'string' && typeof h.tab === 'string' && typeof h.terminal === 'string' && Number.isSafeInteger(h.bytes))
      return h as Header;
  } catch {
    /* not a header */
  }
  return undefined;
}

/** A file name for an id: the id itself when it is plainly safe, else a hash (`~` never starts a plain one). */
function safeName(id: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(id) ? id : `~${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}
