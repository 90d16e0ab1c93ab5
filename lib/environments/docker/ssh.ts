/**
 * Host-to-host SSH in a Docker environment (a lab's `environment.ssh`): the keys and settings of
 * lib/environments/ssh/ as tar entries, copied with the lab's own files in one archive per host,
 * then sshd started in each SSH host. The host names with SSH go in the Environment's meta (names
 * only, no key), so a restarted host gets its sshd back.
 */
import type Dockerode from 'dockerode';
import { SSH_FILES } from '../../labs/ssh';
import { EnvironmentError, SANDBOX, TOOLBOX_BIN, type Environment } from '../driver';
import { sshFilesFor, type SshHost, type SshKeys } from '../ssh/material';
import { runExec } from './exec';
import type { TarEntry } from './tar';

/** Where the Environment record lists the hosts with SSH (comma-separated names). */
const META_KEY = 'sshHosts';

export function sshMeta(hosts: string[]): Record<string, string> {
  return hosts.length ? { [META_KEY]: hosts.join(',') } : {};
}

export function hasSsh(env: Environment, host: string): boolean {
  return (env.meta[META_KEY] ?? '').split(',').includes(host);
}

/** One SSH host's files as tar entries named from `/`, folders before what they hold. */
export function sshEntries(host: string, hosts: SshHost[], keys: SshKeys): TarEntry[] {
  return sshFilesFor(host, hosts, keys).map((f) => {
    const name = f.path.replace(/^\/+/, '');
    return f.content === undefined ? { name, type: 'dir', mode: f.mode } : { name, type: 'file', mode: f.mode, content: Buffer.from(f.content, 'utf8') };
  });
}

/**
 * Starts sshd where the image has one, logging to SSH_FILES.serverLog. Through lf-sandbox like
 * every daemon learners log in through: a login shell inherits sshd's capabilities, and with the
 * platform's full set it could trace a running check (docs/security.md). The toolbox's sh decides
 * whether there is an sshd, so nothing of the host's runs with full capabilities.
 */
export async function startSshd(docker: Dockerode, container: Dockerode.Container, host: string): Promise<void> {
  // sshd -E sends its own complaints (a bad key, a bad drop-in) to the log: show its end on failure.
  const log = SSH_FILES.serverLog;
  const script = `[ -x /usr/sbin/sshd ] || exit 0\n${SANDBOX} /usr/sbin/sshd -E ${log} || { s=$?; tail -n 3 ${log} >&2; exit $s; }`;
  const r = await runExec(docker, container, [`${TOOLBOX_BIN}/sh`, '-c', script], {
    user: '0',
    timeoutMs: 15_000,
    env: { PATH: `${TOOLBOX_BIN}:/usr/sbin:/usr/bin:/sbin:/bin` },
  });
  if (r.exitCode !== 0) {
    const why = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ') || `exit ${r.exitCode}`;
    throw new EnvironmentError(`starting sshd in host ${host} failed: ${why}`);
  }
}
