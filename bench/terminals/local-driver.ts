/**
 * For `--path local` only: terminals are local `bash` ptys (no Docker), so the
 * servers' own cost per byte can be compared without docker exec's noise.
 * Only the terminal methods exist; the bench never calls the others.
 */
import pty, { type IPty } from 'node-pty';
import type { Environment, EnvironmentDriver, TerminalOptions } from '../../lib/environments/driver';

export const LOCAL_SHELL = { file: 'bash', args: ['--norc', '--noprofile', '-i'] };

export function localShellEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', TERM: 'xterm-256color', PS1: '$ ' };
}

export class LocalShellDriver implements EnvironmentDriver {
  readonly name = 'bench-local';
  private readonly ptys = new Map<string, IPty>();

  openTerminal(_env: Environment, _host: string, opts: TerminalOptions): IPty {
    const p = pty.spawn(LOCAL_SHELL.file, LOCAL_SHELL.args, {
      name: 'xterm-256color',
      cols: opts.cols,
      rows: opts.rows,
      cwd: '/tmp',
      env: localShellEnv(),
      encoding: null,
    });
    this.ptys.set(opts.terminalId, p);
    return p;
  }

  /** The shell leads its own process group (node-pty makes it a session leader): signal the group. */
  async inject(): Promise<void> {
    throw new Error('the local shell driver sends no datagrams');
  }

  async closeTerminal(_env: Environment, _host: string, terminalId: string): Promise<void> {
    const p = this.ptys.get(terminalId);
    this.ptys.delete(terminalId);
    if (!p) return;
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }

  prerequisites = unused;
  create = unused;
  exec = unused;
  readFile = unused;
  writeFile = unused;
  health = unused;
  destroy = unused;
  list = unused;
  destroyOwner = unused;
}

async function unused(): Promise<never> {
  throw new Error('not used by the bench');
}
