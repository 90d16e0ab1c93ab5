/**
 * Host-to-host SSH as the lab format sees it (`environment.ssh`, a host's own `ssh:`): which hosts
 * get it, and the files the platform writes into them for it (lib/environments/ssh/), which a
 * lab's `files:` must leave alone. Structural types only: schema.ts refines with these.
 */

/** Where the platform puts each part of a host's SSH setup. */
export const SSH_FILES = {
  /** The session's key pair, the same in every host: the learner is one person everywhere. */
  clientKey: '/root/.ssh/id_ed25519',
  clientPub: '/root/.ssh/id_ed25519.pub',
  authorizedKeys: '/root/.ssh/authorized_keys',
  /** This host's own key (sshd's). */
  hostKey: '/etc/ssh/ssh_host_ed25519_key',
  hostPub: '/etc/ssh/ssh_host_ed25519_key.pub',
  /**
   * Every SSH host's key by name and address. System-wide, not `~/.ssh/known_hosts`, so the
   * learner's own file stays theirs (and stays empty until they add to it themselves).
   */
  knownHosts: '/etc/ssh/ssh_known_hosts',
  /** Client defaults (`Host *`: root, strict host key checking). A `~/.ssh/config` is read first and wins. */
  clientConfig: '/etc/ssh/ssh_config.d/labforge.conf',
  /** sshd settings (key-only root logins, no PAM). A drop-in sorted before it wins. */
  serverConfig: '/etc/ssh/sshd_config.d/labforge.conf',
  /** sshd's log (`sshd -E`): logins, for checks that ask whether the learner went aboard. */
  serverLog: '/var/log/sshd.log',
} as const;

/** The files a lab may not place itself when its host has SSH: the platform's would be lost, or theirs. */
export const PLATFORM_SSH_PATHS: readonly string[] = Object.values(SSH_FILES).filter((p) => p !== SSH_FILES.serverLog);

interface SshHostShape {
  name: string;
  ssh?: boolean;
}

/** Whether a host gets the platform's SSH: its own `ssh:` if set, else the environment's. */
export function hostHasSsh(env: { ssh?: boolean }, host: SshHostShape): boolean {
  return host.ssh ?? env.ssh ?? false;
}

/** The names of the hosts with SSH, in track order. */
export function sshHostNames(env: { ssh?: boolean; hosts: SshHostShape[] }): string[] {
  return env.hosts.filter((h) => hostHasSsh(env, h)).map((h) => h.name);
}

/**
 * The platform's SSH file a `files:` entry would overwrite (or, for a folder, hold), if any.
 * `from` names the source, whose basename a `to:` ending in `/` keeps.
 */
export function platformSshPath(file: { from: string; to: string }): string | undefined {
  const dest = file.to.endsWith('/') ? `${file.to}${file.from.replace(/\/+$/, '').split('/').pop()}` : file.to;
  return PLATFORM_SSH_PATHS.find((p) => p === dest || p.startsWith(`${dest}/`));
}
