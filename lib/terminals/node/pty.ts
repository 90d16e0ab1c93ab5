/**
 * A terminal's pty: opened through the environment driver (the shell runs in
 * the host, never here; locally runs the driver's client, e.g. `docker exec`),
 * its size, its exit, and the end of every process it started (teardown.ts).
 */
import type { IPty } from 'node-pty';
import type { Environment, EnvironmentDriver } from '../../environments/driver';
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
  private pty: IPty | undefined;
  private exited = false;
  /** Resolves when the local pty process has exited. */
  private exit: Promise<void> = Promise.resolve();

  constructor(
    private readonly target: TerminalTarget,
    readonly terminalId: string,
    private readonly log: Logger,
    private readonly events: PtyEvents,
  ) {}

  get started(): boolean {
    return this.pty !== undefined;
  }

  /** Started and not exited: it takes input and a size. */
  get running(): boolean {
    return this.pty !== undefined && !this.exited;
  }

  /** Starts the shell at this size; throws what the driver threw. */
  open(cols: number, rows: number): IPty {
    this.cols = cols;
    this.rows = rows;
    const { driver, env, host } = this.target;
    const pty = driver.openTerminal(env, host, { cols, rows, terminalId: this.terminalId });
    this.pty = pty;
    let exited!: () => void;
    this.exit = new Promise<void>((resolve) => (exited = resolve));
    // Drivers open ptys with `encoding: null` (Buffers, bytes passed through as they are); a string-mode pty still works.
    pty.onData((d: string | Buffer) => this.events.data(typeof d === 'string' ? Buffer.from(d, 'utf8') : d));
    pty.onExit(({ exitCode, signal }) => {
      this.exited = true;
      exited();
      this.events.exit(exitCode, signal);
    });
    this.log.info({ host, pid: pty.pid, cols, rows }, 'terminal started');
    return pty;
  }

  write(data: Uint8Array): void {
    this.pty?.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  resize(cols: number, rows: number): void {
    if (!validDim(cols) || !validDim(rows)) return;
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    const pty = this.pty;
    if (!pty || this.exited) return;
    try {
      pty.resize(cols, rows);
    } catch (err) {
      // node-pty throws (EBADF) when the pty closed under us; the exit handler follows.
      this.log.debug({ err: (err as Error).message }, 'resize failed');
    }
  }

  /** Ends every process the terminal started: in the host first, then the local client (teardown.ts). */
  async close(): Promise<void> {
    const pty = this.pty;
    if (!pty) return;
    const { driver, env, host } = this.target;
    await endTerminalProcesses(pty, {
      driver,
      env,
      host,
      terminalId: this.terminalId,
      alreadyExited: this.exited,
      exited: this.exit,
      onWarning: (message) => this.log.warn(message),
    });
  }
}
