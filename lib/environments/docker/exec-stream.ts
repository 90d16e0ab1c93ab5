/**
 * A terminal as a Docker Engine API exec with a TTY (docker/terminal.ts starts it): the
 * hijacked connection to the engine is the terminal. Output is the raw TTY stream (no
 * multiplexing with a TTY), input is written to it, resizes are coalesced Engine API calls
 * (resize.ts), and the exit code comes from inspecting the exec once the stream ends.
 *
 * No local process and no local pty: a terminal costs the platform a socket and a few objects
 * (a `docker exec -it` client under node-pty cost ~25 MB each). Flow control pauses the socket
 * itself: the engine's writes then block, and so does the program writing to the TTY.
 */
import type { Duplex } from 'node:stream';
import { log as rootLog } from '../../base/log';
import type { TerminalExit, TerminalProcess } from '../terminal-process';
import { CoalescedResize } from './resize';

const log = rootLog.child({ module: 'docker-terminal' });

/** The part of a dockerode Exec a terminal uses (a fake in unit tests). */
export interface ExecHandle {
  readonly id: string;
  resize(opts: { h: number; w: number }): Promise<unknown>;
  inspect(): Promise<{ Running: boolean; ExitCode: number | null }>;
}

/** What a stream's end reports when the engine cannot say how the shell ended (the CLI's own code then). */
export const UNKNOWN_EXIT = 1;

export class ExecStreamProcess implements TerminalProcess {
  readonly id: string;
  private readonly dataListeners: Array<(data: Buffer) => void> = [];
  private readonly exitListeners: Array<(exit: TerminalExit) => void> = [];
  private readonly resizer: CoalescedResize;
  private reading = false;
  private paused = false;
  private exit: TerminalExit | undefined;
  private finishing: Promise<void> | undefined;
  private readonly inspectTries: number;

  constructor(
    private readonly exec: ExecHandle,
    private readonly stream: Duplex,
    size: { cols: number; rows: number },
    opts: { resizeDelayMs?: number; inspectTries?: number; sizeApplied?: boolean } = {},
  ) {
    this.id = `exec ${exec.id.slice(0, 12)}`;
    this.inspectTries = opts.inspectTries ?? 20;
    (stream as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.resizer = new CoalescedResize(
      ({ cols, rows }) => exec.resize({ h: rows, w: cols }),
      (err) => log.debug({ exec: this.id, err: (err as Error).message }, 'resize failed (the shell may have just exited)'),
      opts.resizeDelayMs,
    );
    // The engine creates the TTY before it knows a size (API < 1.42 has no ConsoleSize): set it
    // now, unless the opener already did.
    if (opts.sizeApplied) this.resizer.assume(size.cols, size.rows);
    else this.resizer.request(size.cols, size.rows);
    const ended = () => void this.finish();
    stream.once('end', ended);
    stream.once('close', ended);
    stream.on('error', (err) => {
      log.debug({ exec: this.id, err: err.message }, 'terminal stream error');
      ended();
    });
  }

  onData(listener: (data: Buffer) => void): void {
    this.dataListeners.push(listener);
    // Reading starts with the first listener: until then the socket keeps what arrives.
    if (this.reading) return;
    this.reading = true;
    this.stream.on('data', (d: Buffer) => {
      for (const l of this.dataListeners) l(d);
    });
    if (this.paused) this.stream.pause();
  }

  onExit(listener: (exit: TerminalExit) => void): void {
    if (this.exit) queueMicrotask(() => listener(this.exit!));
    else this.exitListeners.push(listener);
  }

  write(data: Buffer | string): void {
    if (this.exit || this.finishing || !this.stream.writable) return;
    this.stream.write(data);
  }

  resize(cols: number, rows: number): void {
    if (!this.exit && !this.finishing) this.resizer.request(cols, rows);
  }

  /** Stops reading the socket: its buffers fill, then the engine's writes and the program block. */
  pause(): void {
    this.paused = true;
    if (this.reading) this.stream.pause();
  }

  resume(): void {
    this.paused = false;
    // Never before a data listener: a flowing stream with no listener would drop output.
    if (this.reading) this.stream.resume();
  }

  /** Closes the connection (the shell is ended by closeTerminal, not by this) and waits for the exit report. */
  async close(): Promise<void> {
    if (!this.finishing) this.stream.destroy();
    await this.finish();
  }

  /** The stream ended: how the shell ended, from the engine, then the exit listeners. Once. */
  private finish(): Promise<void> {
    this.finishing ??= (async () => {
      this.resizer.stop();
      if (!this.stream.destroyed) this.stream.destroy();
      const exit = await this.exitStatus();
      this.exit = exit;
      for (const l of this.exitListeners.splice(0)) l(exit);
    })();
    return this.finishing;
  }

  /** The engine may still report the exec running for a moment after its stream ended. */
  private async exitStatus(): Promise<TerminalExit> {
    for (let i = 0; i < this.inspectTries; i++) {
      try {
        const info = await this.exec.inspect();
        if (!info.Running && info.ExitCode !== null) return { exitCode: info.ExitCode };
      } catch (err) {
        // The engine went away with the stream (restarted), or the host's container did.
        log.info({ exec: this.id, err: (err as Error).message }, 'terminal stream ended; the engine cannot say how the shell ended');
        return { exitCode: UNKNOWN_EXIT };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return { exitCode: UNKNOWN_EXIT };
  }
}
