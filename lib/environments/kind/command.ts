/**
 * One small seam for every external command a driver runs (kind, helm):
 * `(cmd, args, opts) => {code, stdout, stderr}`. The real one spawns the
 * binary; tests pass a recorder instead, so the exact sequence of commands can
 * be verified on machines without kind or helm.
 */
import { spawn } from 'node:child_process';
import { EnvironmentError } from '../driver';

export interface CommandOptions {
  stdin?: string;
  /** Called for every complete output line (both streams), e.g. to stream progress. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  signal?: AbortSignal;
  /** Extra environment variables on top of the server's own. */
  env?: Record<string, string>;
}

export interface CommandResult {
  /** Exit code; 127 when the binary was not found, -1 when killed by a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (cmd: string, args: string[], opts?: CommandOptions) => Promise<CommandResult>;

/** Kept per stream: kind and helm print little, but a runaway tool should not fill memory. */
const CAP = 1024 * 1024;

/** Removes ANSI colour/cursor sequences and carriage-return spinner redraws from a line. */
export function cleanLine(s: string): string {
  const plain = s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  const parts = plain.split('\r').filter((p) => p.trim());
  return (parts[parts.length - 1] ?? '').trimEnd();
}

export const spawnRunner: CommandRunner = (cmd, args, opts = {}) =>
  new Promise((resolve) => {
    const out = { stdout: '', stderr: '' };
    const partial = { stdout: '', stderr: '' };
    let settled = false;
    const finish = (r: CommandResult) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    if (opts.signal?.aborted) return finish({ code: -1, stdout: '', stderr: `${cmd}: cancelled before it started` });

    const child = spawn(cmd, args, {
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Own process group: a cancel then reaches what the tool started too.
      detached: true,
    });
    let killTimer: NodeJS.Timeout | undefined;
    function onAbort() {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
      killTimer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 5000);
      killTimer.unref();
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (out[stream].length < CAP) out[stream] += text.slice(0, CAP - out[stream].length);
      if (!opts.onLine) return;
      const lines = (partial[stream] + text).split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const l of lines) {
        const line = cleanLine(l);
        if (line) opts.onLine(line, stream);
      }
    };
    child.stdout.on('data', collect('stdout'));
    child.stderr.on('data', collect('stderr'));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (killTimer) clearTimeout(killTimer);
      finish({ code: err.code === 'ENOENT' ? 127 : -1, stdout: out.stdout, stderr: `${cmd}: ${err.code === 'ENOENT' ? 'command not found' : err.message}` });
    });
    child.on('close', (code) => {
      if (killTimer) clearTimeout(killTimer);
      for (const stream of ['stdout', 'stderr'] as const) {
        const line = cleanLine(partial[stream]);
        if (line && opts.onLine) opts.onLine(line, stream);
      }
      finish({ code: code ?? -1, ...out });
    });
    // A tool that exits without reading stdin makes the write fail with EPIPE: not our error.
    child.stdin.on('error', () => {});
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else child.stdin.end();
  });

/** The last few lines of a failed command's output: what a human needs to see. */
export function tail(r: CommandResult, lines = 8): string {
  const text = (r.stderr.trim() || r.stdout.trim()).split('\n');
  return text.slice(-lines).map(cleanLine).filter(Boolean).join('\n');
}

/** Runs and throws an EnvironmentError naming the command and its output when it fails. */
export async function mustRun(run: CommandRunner, what: string, cmd: string, args: string[], opts?: CommandOptions, hint?: string): Promise<CommandResult> {
  const r = await run(cmd, args, opts);
  if (opts?.signal?.aborted) throw new EnvironmentError('environment creation was cancelled');
  if (r.code === 127) throw new EnvironmentError(`${what} failed: ${cmd} not found on PATH`, `install ${cmd}`);
  if (r.code !== 0) throw new EnvironmentError(`${what} failed (${cmd} exited with ${r.code}): ${tail(r) || 'no output'}`, hint);
  return r;
}
