/**
 * Ending a terminal's processes. Closing the platform's side of a terminal (an Engine API
 * stream, a local client such as `docker exec`) leaves the shell in the host running: so
 * first the driver ends everything the terminal started in the host, then the platform's side
 * is closed (TerminalProcess.close).
 */
import type { Environment, EnvironmentDriver, TerminalProcess } from '../../environments/driver';
import { withTimeout } from '../../base/timeout';

export interface TeardownOptions {
  driver: EnvironmentDriver;
  env: Environment;
  host: string;
  terminalId: string;
  closeTimeoutMs?: number;
  onWarning?: (message: string) => void;
}

export async function endTerminalProcesses(proc: TerminalProcess, o: TeardownOptions): Promise<void> {
  const ms = o.closeTimeoutMs ?? 15_000;
  try {
    await withTimeout(o.driver.closeTerminal(o.env, o.host, o.terminalId), ms, 'closeTerminal');
  } catch (err) {
    o.onWarning?.(`could not end the terminal processes in the host: ${(err as Error).message}`);
  }
  try {
    await withTimeout(proc.close(), ms, 'closing the terminal');
  } catch (err) {
    o.onWarning?.(`could not close the terminal: ${(err as Error).message}`);
  }
}
