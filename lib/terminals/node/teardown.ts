/**
 * Ending a terminal's processes. node-pty's kill() signals only the local
 * client (e.g. `docker exec`), and killing that client leaves the shell in the
 * host running: so first the driver ends everything the terminal started in
 * the host, then the local client gets SIGHUP, then its process group SIGKILL.
 */
import type { IPty } from 'node-pty';
import type { Environment, EnvironmentDriver } from '../../environments/driver';
import { withTimeout } from '../../base/timeout';

export interface TeardownOptions {
  driver: EnvironmentDriver;
  env: Environment;
  host: string;
  terminalId: string;
  /** Resolves when the local pty process has exited (or at once if it already has). */
  exited: Promise<void>;
  alreadyExited: boolean;
  closeTimeoutMs?: number;
  onWarning?: (message: string) => void;
}

export async function endTerminalProcesses(pty: IPty, o: TeardownOptions): Promise<void> {
  try {
    await withTimeout(o.driver.closeTerminal(o.env, o.host, o.terminalId), o.closeTimeoutMs ?? 15_000, 'closeTerminal');
  } catch (err) {
    o.onWarning?.(`could not end the terminal processes in the host: ${(err as Error).message}`);
  }
  if (!o.alreadyExited) {
    try {
      pty.kill('SIGHUP');
    } catch {
      /* already gone */
    }
    const timedOut = await Promise.race([o.exited.then(() => false), sleep(2_000).then(() => true)]);
    if (timedOut) killGroup(pty.pid, 'SIGKILL');
  }
  // Anything the client left behind in its own group (node-pty makes the child a session and group leader).
  killGroup(pty.pid, 'SIGKILL');
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* no such group: fine */
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
