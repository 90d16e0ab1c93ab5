/**
 * A seam fake for terminals without Docker: each terminal is a local
 * `bash --norc` under node-pty (lib/environments/pty-process.ts: why node-pty stays). The
 * terminal tests run the real gateway over it, and the terminals bench (`--path local`)
 * measures the servers' own cost per byte without the engine's noise. Only the terminal
 * methods exist.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pty from 'node-pty';
import type { Environment, EnvironmentDriver, TerminalOptions } from '../../lib/environments/driver';
import { PtyProcess } from '../../lib/environments/pty-process';

/** The shells' prompt, so a test can wait for it. */
export const PROMPT = 'PROMPT$ ';

export const LOCAL_SHELL = { file: 'bash', args: ['--norc', '--noprofile', '-i'] };

export function localShellEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', TERM: 'xterm-256color', PS1: PROMPT };
}

export const localEnv: Environment = { driver: 'local-pty', owner: 's-1', lab: 'test', hosts: [], meta: {} };

export class LocalPtyDriver implements EnvironmentDriver {
  readonly name = 'local-pty';
  /** Terminal ids closeTerminal was called for, in order. */
  readonly closed: string[] = [];
  private readonly open = new Map<string, PtyProcess>();

  async openTerminal(_env: Environment, _host: string, opts: TerminalOptions): Promise<PtyProcess> {
    const p = pty.spawn(LOCAL_SHELL.file, LOCAL_SHELL.args, {
      name: 'xterm-256color',
      cols: opts.cols,
      rows: opts.rows,
      cwd: '/tmp',
      encoding: null,
      env: { ...localShellEnv(), LABFORGE_TERMINAL: opts.terminalId },
    });
    const proc = new PtyProcess(p);
    this.open.set(opts.terminalId, proc);
    return proc;
  }

  async inject(): Promise<void> {
    throw new Error('the local shell driver sends no datagrams');
  }

  /** Like the Docker driver's: every process of the terminal ends, background jobs too (each job has its own process group). */
  async closeTerminal(_env: Environment, _host: string, terminalId: string): Promise<void> {
    this.closed.push(terminalId);
    const p = this.open.get(terminalId);
    this.open.delete(terminalId);
    if (!p) return;
    for (const pid of processesInSession(p.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  prerequisites = notUsed;
  create = notUsed;
  exec = notUsed;
  readFile = notUsed;
  writeFile = notUsed;
  health = notUsed;
  destroy = notUsed;
  list = notUsed;
  destroyOwner = notUsed;
}

async function notUsed(): Promise<never> {
  throw new Error('not part of the local pty driver');
}

/** Live (non-zombie) pids whose session id is `sid` (node-pty makes the shell a session leader), from /proc. */
export function processesInSession(sid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[3]) === sid) out.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}
