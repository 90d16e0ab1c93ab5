/**
 * Terminals into Docker hosts (DockerDriver.openTerminal/closeTerminal): an Engine API exec
 * with a TTY, its hijacked stream the terminal (exec-stream.ts); ended through the Engine API.
 * The shell starts like every learner process, through lf-sandbox, with the marker variable
 * closeTerminal finds it and everything it started by.
 */
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { z } from 'zod';
import { log as rootLog } from '../../base/log';
import { withTimeout } from '../../base/timeout';
import { EnvironmentError, SANDBOX, hostOf, type Environment, type TerminalOptions } from '../driver';
import type { TerminalProcess } from '../terminal-process';
import { engineStatus, hostError } from './errors';
import { killMarked } from './exec';
import { ExecStreamProcess } from './exec-stream';

const log = rootLog.child({ module: 'docker-terminal' });
/** How long a new terminal waits for its first size to be set before it is handed out anyway. */
const SIZE_TIMEOUT_MS = 5_000;

const terminalSchema = z.object({
  cols: z.number().int().min(1).max(1000),
  rows: z.number().int().min(1).max(1000),
  terminalId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be letters, digits, _ or - (max 64)'),
});

/** Checks the options before anything reaches the engine (they end up in the exec's environment). */
function parseOptions(opts: TerminalOptions): z.infer<typeof terminalSchema> {
  const parsed = terminalSchema.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EnvironmentError(`invalid terminal options: ${issue.path.join('.')} ${issue.message}`);
  }
  return parsed.data;
}

export async function openTerminal(docker: Dockerode, env: Environment, host: string, opts: TerminalOptions): Promise<TerminalProcess> {
  const o = parseOptions(opts);
  const h = hostOf(env, host);
  try {
    // The marker variable lets closeTerminal find the shell and all it started; lf-sandbox makes
    // it a learner process (docs/security.md: learner processes cannot reach running checks).
    const exec = await docker.getContainer(h.ref).exec({
      Cmd: [SANDBOX, h.spec.shell, '-l'],
      Env: ['TERM=xterm-256color', `LABFORGE_TERMINAL=${o.terminalId}`],
      WorkingDir: h.spec.workdir,
      Tty: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
    // The TTY starts without a size (API < 1.42 has no ConsoleSize): set it before anything is
    // typed, or a first command can see 0x0 (the engine waits for the exec to start before it
    // resizes). A failure only leaves the size to the next resize.
    const sized = await withTimeout(exec.resize({ h: o.rows, w: o.cols }), SIZE_TIMEOUT_MS, 'setting the terminal size').then(
      () => true,
      (err: Error) => {
        log.warn({ host, err: err.message }, 'could not set the size of a new terminal');
        return false;
      },
    );
    return new ExecStreamProcess(exec, stream, o, { sizeApplied: sized });
  } catch (err) {
    throw hostError(err, host, 'opening a terminal');
  }
}

export async function closeTerminal(docker: Dockerode, env: Environment, host: string, terminalId: string): Promise<void> {
  const check = terminalSchema.shape.terminalId.safeParse(terminalId);
  if (!check.success) throw new EnvironmentError(`invalid terminal id "${terminalId}"`);
  try {
    await killMarked(docker, docker.getContainer(hostOf(env, host).ref), `LABFORGE_TERMINAL=${check.data}`);
  } catch (err) {
    // Nothing left to end when the host itself is gone or stopped, or being removed (the session
    // ended through another replica: the engine answers 500 "container not running" then).
    const status = engineStatus(err);
    const notRunning = status === 500 && /container not running|removal in progress/i.test((err as Error).message);
    if (status !== 404 && status !== 409 && !notRunning) throw hostError(err, host, 'closing a terminal');
  }
}
