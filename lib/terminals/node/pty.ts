/**
 * A terminal's shell process, as the environment driver opened it (the shell runs in the host,
 * never here; what the platform holds is a TerminalProcess: an Engine API stream, or a local
 * client under a pty): its size, its exit, and the end of every process it started
 * (teardown.ts). Opening is asynchronous; a resize or a close meanwhile is kept for when it
 * has started.
 */
import type { Environment, EnvironmentDriver, TerminalProcess } from '../../environments/driver';
import type { Logger } from '../../base/log';
import { validDim } from '../common/protocol';
import { endTerminalProcesses } from './teardown';

export interface TerminalTarget {
  driver: EnvironmentDriver;
  env: Environment;
  host: string;
}

export interface PtyEvents {
  data(buf: Buffer): void;
  exit(code: number, signal?: number): void;
}

export class TerminalPty {
  cols = 80;
  rows = 24;
  private proc: TerminalProcess | undefined;
  private opening: Promise<TerminalProcess> | undefined;
  private exited = false;

  constructor(
    private readonly target: TerminalTarget,
    readonly terminalId: string,
    private readonly log: Logger,
    private readonly events: PtyEvents,
  ) {}

  /** Opening was asked for (it may still be under way, or have failed). */
  get started(): boolean {
    return this.opening !== undefined;
  }

  /** Started and not exited: it takes input and a size. */
  get running(): boolean {
    return this.proc !== undefined && !this.exited;
  }

  /** Starts the shell at this size; rejects with what the driver threw. */
  open(cols: number, rows: number): Promise<TerminalProcess> {
    this.cols = cols;
    this.rows = rows;
    this.opening ??= this.start(cols, rows);
    return this.opening;
  }

  private async start(cols: number, rows: number): Promise<TerminalProcess> {
    const { driver, env, host } = this.target;
    const proc = await driver.openTerminal(env, host, { cols, rows, terminalId: this.terminalId });
    this.proc = proc;
    proc.onData((d) => this.events.data(d));
    proc.onExit(({ exitCode, signal }) => {
      this.exited = true;
      this.events.exit(exitCode, signal);
    });
    // The window changed while the shell was starting.
    if (this.cols !== cols || this.rows !== rows) proc.resize(this.cols, this.rows);
    this.log.info({ host, process: proc.id, cols, rows }, 'terminal started');
    return proc;
  }

  write(data: Uint8Array): void {
    if (this.running) this.proc!.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  resize(cols: number, rows: number): void {
    if (!validDim(cols) || !validDim(rows)) return;
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    // Never throws (TerminalProcess.resize): a resize racing the exit is lost, nothing more.
    if (this.running) this.proc!.resize(cols, rows);
  }

  /** Ends every process the terminal started: in the host first, then the platform's side (teardown.ts). */
  async close(): Promise<void> {
    const proc = await this.opening?.catch(() => undefined);
    if (!proc) return;
    const { driver, env, host } = this.target;
    await endTerminalProcesses(proc, {
      driver,
      env,
      host,
      terminalId: this.terminalId,
      onWarning: (message) => this.log.warn(message),
    });
  }
}
