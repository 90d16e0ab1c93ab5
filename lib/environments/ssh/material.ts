/**
 * Host-to-host SSH for one environment (a lab's `environment.ssh`): the keys the platform makes for
 * it and the files each SSH host gets, as plain content for any driver to place. One key pair per
 * session, the learner's (they are root in every host, so the same key everywhere is no less safe
 * and lets them hop from host to host), and one host key per host, so the learner's `ssh` can check
 * each host's identity strictly instead of trusting the first answer.
 *
 * The private keys live here, in the hosts and nowhere else: never logged, never in the
 * Environment record (which is stored with the session), never in the database (docs/security.md).
 */
import { SSH_FILES } from '../../labs/ssh';
import { generateEd25519, type SshKeyPair } from './openssh';

export interface SshHost {
  name: string;
  /** Its address on the session network, once the engine has given it one. */
  address?: string;
}

export interface SshKeys {
  /** The learner's key pair, in every SSH host. */
  client: SshKeyPair;
  /** Each host's own key, by host name. */
  hosts: Map<string, SshKeyPair>;
}

/** One file (or folder) to place in a host: an absolute path, its mode, and its text. */
export interface SshFile {
  path: string;
  mode: number;
  /** Absent for a folder. */
  content?: string;
}

/** Fresh keys for the hosts named (a few hundred microseconds each). */
export function makeSshKeys(hostNames: string[]): SshKeys {
  return {
    client: generateEd25519('learner@labforge'),
    hosts: new Map(hostNames.map((h) => [h, generateEd25519(`root@${h}`)])),
  };
}

/** `luke,172.18.0.3 ssh-ed25519 AAAA…` for every SSH host: the only keys `ssh` will accept. */
export function knownHosts(hosts: SshHost[], keys: SshKeys): string {
  return hosts
    .map((h) => {
      const key = keys.hosts.get(h.name);
      if (!key) throw new Error(`no host key made for ${h.name}`);
      // The key without its comment: a known_hosts line names the host itself.
      const [type, blob] = key.publicKey.split(' ');
      return `${[h.name, h.address].filter(Boolean).join(',')} ${type} ${blob}\n`;
    })
    .join('');
}

/**
 * The client's defaults, system-wide so that a lab's or the learner's own `~/.ssh/config` (read
 * first) still wins. Strict checking: every lab host's key is known in advance, so anything else
 * answering to its name is refused rather than trusted.
 */
export const CLIENT_CONFIG = `# Written by Labforge for host-to-host SSH (track.yml environment.ssh).
# Your own ~/.ssh/config is read first: settings there win.
Host *
    User root
    IdentityFile ${SSH_FILES.clientKey}
    StrictHostKeyChecking yes
    GlobalKnownHostsFile ${SSH_FILES.knownHosts}
    UserKnownHostsFile ~/.ssh/known_hosts
    HashKnownHosts no
    ConnectTimeout 5
    ServerAliveInterval 15
`;

/**
 * sshd's settings. Root logs in with the session key only. `UsePAM no`: PAM's loginuid module
 * fails in an unprivileged container and would refuse every login. PrintMotd: Debian leaves
 * /etc/motd to PAM, which is off.
 */
export const SERVER_CONFIG = `# Written by Labforge for host-to-host SSH (track.yml environment.ssh).
# A drop-in that sorts before this one (00-mine.conf) wins: sshd keeps the first value it reads.
HostKey ${SSH_FILES.hostKey}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PrintMotd yes
PrintLastLog no
X11Forwarding no
`;

/** Everything one SSH host gets, parents before children: `hosts` are all the SSH hosts of the environment. */
export function sshFilesFor(host: string, hosts: SshHost[], keys: SshKeys): SshFile[] {
  const own = keys.hosts.get(host);
  if (!own) throw new Error(`no host key made for ${host}`);
  const dir = (p: string) => p.slice(0, p.lastIndexOf('/'));
  return [
    // 0700 and 0600: sshd's StrictModes refuses keys others could read or replace.
    { path: dir(SSH_FILES.clientKey), mode: 0o700 },
    { path: SSH_FILES.clientKey, mode: 0o600, content: keys.client.privateKey },
    { path: SSH_FILES.clientPub, mode: 0o644, content: `${keys.client.publicKey}\n` },
    { path: SSH_FILES.authorizedKeys, mode: 0o600, content: `${keys.client.publicKey}\n` },
    { path: SSH_FILES.hostKey, mode: 0o600, content: own.privateKey },
    { path: SSH_FILES.hostPub, mode: 0o644, content: `${own.publicKey}\n` },
    { path: SSH_FILES.knownHosts, mode: 0o644, content: knownHosts(hosts, keys) },
    { path: SSH_FILES.clientConfig, mode: 0o644, content: CLIENT_CONFIG },
    { path: SSH_FILES.serverConfig, mode: 0o644, content: SERVER_CONFIG },
    // sshd's privilege-separation folder (Debian's init script makes it; a container has no init).
    { path: '/run/sshd', mode: 0o755 },
  ];
}
