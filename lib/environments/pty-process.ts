/**
 * A TerminalProcess over a local process under node-pty. No production driver uses it since
 * Docker terminals run over the Engine API (docker/exec-stream.ts); it stays for terminals
 * whose only way in is a local client program (a `kubectl exec`-style driver would need it), and
 * for the seam's local test driver (test/support/local-pty-driver.ts: local bash, no engine),
 * which the terminal tests and the terminals bench (`--path local`) run the gateway over.
 */
import type { IPty } from 'node-pty';
import type { TerminalExit, TerminalProcess } from './terminal-process';

export class PtyProcess implements TerminalProcess {
  readonly id: string;
  private exited = false;
  private readonly exit: Promise<void>;

  constructor(private readonly pty: IPty) {
    this.id = `pid ${pty.pid}`;
    this.exit = new Promise<void>((resolve) =>
      pty.onExit(() => {
        this.exited = true;
        resolve();
      }),
    );
  }

  /** The local process (a session and process group leader: node-pty makes it one). */
  get pid(): number {
    return this.pty.pid;
  }

  onData(listener: (data: Buffer) => void): void {
    // Opened with `encoding: null` the pty gives Buffers; a string-mode pty still works.
    this.pty.onData((d: string | Buffer) => listener(typeof d === 'string' ? Buffer.from(d, 'utf8') : d));
  }

  onExit(listener: (exit: TerminalExit) => void): void {
    this.pty.onExit(({ exitCode, signal }) => listener(signal ? { exitCode, signal } : { exitCode }));
  }

  write(data: Buffer | string): void {
    if (!this.exited) this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.exited) return;
    try {
      this.pty.resize(cols, rows);
    } catch {
      // node-pty throws (EBADF) when the pty closed under us; the exit event follows.
    }
  }

  pause(): void {
    this.pty.pause();
  }

  resume(): void {
    this.pty.resume();
  }

  /** SIGHUP to the local process, SIGKILL to its group if it lingers, and to anything it left in its group. */
  async close(): Promise<void> {
    if (!this.exited) {
      try {
        this.pty.kill('SIGHUP');
      } catch {
        /* already gone */
      }
      const timedOut = await Promise.race([this.exit.then(() => false), sleep(2_000).then(() => true)]);
      if (timedOut) killGroup(this.pty.pid);
    }
    killGroup(this.pty.pid);
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* no such group: fine */
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
