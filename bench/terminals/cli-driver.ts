/**
 * The Docker terminal as it was before issue #14, for before/after figures in one bench run:
 * a `docker exec -it` CLI process per terminal under node-pty (lib/environments/pty-process.ts),
 * with the same sandbox, marker, TERM and workdir as today's Engine API terminal
 * (lib/environments/docker/terminal.ts). Bench-only: production terminals have no local process.
 */
import pty from 'node-pty';
import { DockerDriver } from '../../lib/environments/docker/driver';
import { SANDBOX, hostOf, type Environment, type TerminalOptions, type TerminalProcess } from '../../lib/environments/driver';
import { PtyProcess } from '../../lib/environments/pty-process';

export class CliDockerDriver extends DockerDriver {
  async openTerminal(env: Environment, host: string, opts: TerminalOptions): Promise<TerminalProcess> {
    const h = hostOf(env, host);
    const args = [
      'exec',
      '-it',
      '-e',
      'TERM=xterm-256color',
      '-e',
      `LABFORGE_TERMINAL=${opts.terminalId}`,
      '-w',
      h.spec.workdir,
      h.ref,
      SANDBOX,
      h.spec.shell,
      '-l',
    ];
    const p = pty.spawn('docker', args, {
      name: 'xterm-256color',
      cols: opts.cols,
      rows: opts.rows,
      cwd: process.cwd(),
      env: process.env as Record<string, string>,
      encoding: null,
    });
    return new PtyProcess(p);
  }
}
