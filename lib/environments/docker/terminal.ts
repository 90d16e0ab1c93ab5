/**
 * Terminals into Docker hosts (DockerDriver.openTerminal/closeTerminal): the `docker` CLI under
 * node-pty, because a pty needs a real local process to attach to; ended through the Engine API.
 */
import type Dockerode from 'dockerode';
import * as pty from 'node-pty';
import { z } from 'zod';
import { which } from '../../base/which';
import { EnvironmentError, SANDBOX, hostOf, type Environment, type TerminalOptions } from '../driver';
import { engineStatus, hostError } from './errors';
import { killMarked } from './exec';

const terminalSchema = z.object({
  cols: z.number().int().min(1).max(1000),
  rows: z.number().int().min(1).max(1000),
  terminalId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be letters, digits, _ or - (max 64)'),
});

export function openTerminal(env: Environment, host: string, opts: TerminalOptions): pty.IPty {
  const parsed = terminalSchema.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EnvironmentError(`invalid terminal options: ${issue.path.join('.')} ${issue.message}`);
  }
  const o = parsed.data;
  const h = hostOf(env, host);
  const docker = which('docker');
  if (!docker) throw new EnvironmentError('docker CLI not found on PATH', 'install docker.io (or docker-ce-cli)');
  // The marker variable lets closeTerminal find the shell and all it started; lf-sandbox makes
  // it a learner process (docs/security.md: learner processes cannot reach running checks).
  const args = [
    'exec',
    '-it',
    '-e',
    'TERM=xterm-256color',
    '-e',
    `LABFORGE_TERMINAL=${o.terminalId}`,
    '-w',
    h.spec.workdir,
    h.ref,
    SANDBOX,
    h.spec.shell,
    '-l',
  ];
  return pty.spawn(docker, args, {
    name: 'xterm-256color',
    cols: o.cols,
    rows: o.rows,
    cwd: process.cwd(),
    env: process.env as Record<string, string>,
    // Output as Buffers: no UTF-8 decode + re-encode per read, and bytes pass through exactly
    // (a read may end mid-character; the browser's xterm decodes the stream).
    encoding: null,
  });
}

export async function closeTerminal(docker: Dockerode, env: Environment, host: string, terminalId: string): Promise<void> {
  const check = terminalSchema.shape.terminalId.safeParse(terminalId);
  if (!check.success) throw new EnvironmentError(`invalid terminal id "${terminalId}"`);
  try {
    await killMarked(docker, docker.getContainer(hostOf(env, host).ref), `LABFORGE_TERMINAL=${check.data}`);
  } catch (err) {
    // Nothing left to end when the host itself is gone or stopped.
    if (engineStatus(err) !== 404 && engineStatus(err) !== 409) throw hostError(err, host, 'closing a terminal');
  }
}
