/**
 * What a driver's openTerminal hands back: the learner's shell, running in the host, as the
 * terminal layer (lib/terminals/node/) drives it. Small on purpose, so any transport fits: a
 * Docker Engine API exec stream (docker/exec-stream.ts, no local process at all) or a local
 * client process under a pty (pty-process.ts). Nothing above the seam knows which.
 */

export interface TerminalExit {
  exitCode: number;
  signal?: number;
}

export interface TerminalProcess {
  /** For logs only: a local pid, an exec id. */
  readonly id: string;
  /** Output bytes exactly as the terminal produced them (a read may end mid-character). */
  onData(listener: (data: Buffer) => void): void;
  /** Once, when the shell is gone: it exited, was ended, or its stream was cut. */
  onExit(listener: (exit: TerminalExit) => void): void;
  /** Typed bytes (a string as UTF-8); dropped once the process has exited. */
  write(data: Buffer | string): void;
  /** Never throws: a resize that races the exit is simply lost. */
  resize(cols: number, rows: number): void;
  /**
   * Flow control: stop reading output, so the producer in the host blocks on its writes (nothing
   * piles up on the platform), and start again. Input still passes while paused (Ctrl-C).
   */
  pause(): void;
  resume(): void;
  /**
   * Ends the platform's side of the terminal (the stream, the local client) and resolves once it
   * is gone. Idempotent. What runs in the host is ended by EnvironmentDriver.closeTerminal: a
   * closed stream or a killed local client does not stop the shell it was attached to.
   */
  close(): Promise<void>;
}
