/**
 * Running processes inside a container through the Engine's exec API, and
 * ending them again. A `docker exec` client going away (or a timeout) does not
 * stop what it started inside the container, so every process we start carries
 * a marker variable (`LABFORGE_EXEC=<id>`, `LABFORGE_TERMINAL=<id>`): the kill
 * script finds marked processes through /proc, and also everything in their
 * sessions (which catches children that dropped their environment, e.g. sudo).
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { TOOLBOX_BIN, type ExecOptions, type ExecResult } from '../driver';

const TOOLBOX_SH = `${TOOLBOX_BIN}/sh`;

/** Per-stream limit on captured output: checks print little, runaway loops print a lot. */
export const OUTPUT_CAP = 1024 * 1024;

/** Collects output up to a cap, remembering how much was dropped. */
class Capture {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;
  write(chunk: Buffer): boolean {
    const room = OUTPUT_CAP - this.size;
    if (room > 0) {
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(Buffer.from(part));
      this.size += part.length;
    }
    this.dropped += Math.max(0, chunk.length - Math.max(room, 0));
    return true;
  }
  text(): string {
    const s = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped ? `${s}\n[labforge: output truncated, ${this.dropped} more bytes not kept]\n` : s;
  }
}

/**
 * Splits the engine's multiplexed stream (8-byte headers: type, 0, 0, 0, size).
 * When the engine cannot start the process at all (no such binary, no such user)
 * it writes a plain error text instead; that lands in stderr and sets `engineError`.
 */
class Demux {
  private buf: Buffer = Buffer.alloc(0);
  private raw = false;
  engineError = false;
  constructor(
    private readonly out: Capture,
    private readonly err: Capture,
  ) {}
  /** Moves what was taken for stdout over to stderr: it was the engine's error message. */
  engineFailed(): void {
    this.engineError = true;
    this.err.write(Buffer.from(this.out.text()));
  }
  push(chunk: Buffer): void {
    if (this.raw) return void this.err.write(chunk);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const type = this.buf[0];
      if (type > 2 || this.buf[1] || this.buf[2] || this.buf[3]) {
        this.raw = this.engineError = true;
        this.err.write(this.buf);
        this.buf = Buffer.alloc(0);
        return;
      }
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) return;
      (type === 2 ? this.err : this.out).write(this.buf.subarray(8, 8 + size));
      this.buf = this.buf.subarray(8 + size);
    }
  }
}

/**
 * POSIX sh, run as root in the container with the marker `NAME=VALUE` as $1.
 * Pass 1 kills processes whose environment holds the marker (one grep over all
 * of /proc) and notes their session ids; pass 2 kills every process in those
 * sessions (never session 0/1: the container's own init), with shell builtins
 * only. Repeats while it still finds something: a dying shell may just have forked.
 */
const KILL_SCRIPT = `
m=$1
for round in 1 2 3 4 5; do
  found=0; sids=' '
  for f in $(grep -lsxzF -- "$m" /proc/[0-9]*/environ); do
    d=\${f%/environ}
    { read -r s <"$d/stat"; } 2>/dev/null || continue
    s=\${s##*) }; set -- $s
    [ "$4" -gt 1 ] 2>/dev/null && sids="$sids$4 "
    kill -KILL "\${d#/proc/}" 2>/dev/null && found=1
  done
  [ "$sids" = ' ' ] && break
  for d in /proc/[0-9]*; do
    { read -r s <"$d/stat"; } 2>/dev/null || continue
    s=\${s##*) }; set -- $s
    [ "$1" = Z ] && continue
    case "$sids" in *" $4 "*) kill -KILL "\${d#/proc/}" 2>/dev/null && found=1;; esac
  done
  [ $found = 0 ] && break
done
`;

export function newMarkerId(): string {
  return randomBytes(8).toString('hex');
}

export interface RunOptions extends ExecOptions {
  /** Extra variables that identify the processes (the marker). */
  marker?: string;
}

/** Runs argv in the container; returns when the process has exited (or was killed on timeout). */
export async function runExec(docker: Dockerode, container: Dockerode.Container, argv: string[], opts: RunOptions = {}): Promise<ExecResult> {
  const started = Date.now();
  const marker = opts.marker ?? `LABFORGE_EXEC=${newMarkerId()}`;
  const withStdin = opts.stdin !== undefined;
  const exec = await container.exec({
    Cmd: argv,
    AttachStdin: withStdin,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    Env: [...Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`), marker],
    User: opts.user,
    WorkingDir: opts.cwd,
  });
  const stream = (await exec.start({ hijack: true, stdin: withStdin })) as Duplex;
  const stdout = new Capture();
  const stderr = new Capture();
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', resolve);
  });
  const demux = new Demux(stdout, stderr);
  stream.on('data', (chunk: Buffer) => demux.push(chunk));
  if (withStdin) {
    stream.write(opts.stdin);
    // Half-close: the engine then closes the process's stdin, and we keep reading its output.
    stream.end();
  }

  // Note: when a background child still holds the output pipe, the engine keeps the
  // stream open for up to 2 s after the process exits (its own grace), then ends it.
  let fired = false;
  let timer: NodeJS.Timeout | undefined;
  if (opts.timeoutMs && opts.timeoutMs > 0) {
    timer = setTimeout(() => {
      fired = true;
      killMarked(docker, container, marker)
        .catch(() => {})
        // If the engine still holds the stream open (a grandchild kept the pipe), give up on it.
        .finally(() => setTimeout(() => stream.destroy(), 3000).unref());
    }, opts.timeoutMs);
  }
  await ended;
  if (timer) clearTimeout(timer);

  let exitCode = -1;
  for (let i = 0; i < 20; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) {
      exitCode = info.ExitCode;
      // Pid 0: the process never started, and the engine wrote why into the stdout frames.
      if (info.Pid === 0 && exitCode !== 0) demux.engineFailed();
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  // A process that had already exited (only a background child kept the stream open)
  // keeps its own exit code: it did not time out, though its children were ended.
  const timedOut = fired && (exitCode === 137 || exitCode === -1);
  // Match the shell's convention so a check can tell "command not found" apart.
  if (demux.engineError && /exec: "[^"]*": (executable file not found|stat .*no such file or directory)/.test(stderr.text())) exitCode = 127;
  return {
    exitCode,
    stdout: demux.engineError ? '' : stdout.text(),
    stderr: stderr.text().replace(/\r\n$/, '\n'),
    timedOut,
    durationMs: Date.now() - started,
    ...(demux.engineError ? { notStarted: true } : {}),
  };
}

/** Kills every process carrying `marker` (`NAME=VALUE`) and everything in their sessions. */
export async function killMarked(docker: Dockerode, container: Dockerode.Container, marker: string): Promise<void> {
  // The toolbox's sh: the host's own /bin/sh may be the learner's.
  await runExec(docker, container, [TOOLBOX_SH, '-c', KILL_SCRIPT, 'labforge-kill', marker], { user: '0', marker: 'LABFORGE_KILLER=1' });
}
