/**
 * What a machine needs before the Kind driver can work, one Problem (what is
 * wrong, how to fix it) per missing piece. Every probe is injectable so the
 * messages can be tested on any machine.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { which } from '../../base/which';
import type { Problem } from '../driver';

/** The floor for any kind lab here; labs that need more (multicast: 5.13) say so in cluster-needs.ts. */
export const MIN_KERNEL = { major: 5, minor: 10 };
export const INOTIFY = { watches: 524288, instances: 512 } as const;

export interface PrereqProbes {
  /** Docker engine + CLI problems (the Docker driver's own check). */
  docker: () => Promise<Problem[]>;
  /** Absolute path of a binary on PATH, or null. */
  which: (binary: string) => string | null;
  /** `os.release()`. */
  kernelRelease: () => string;
  /** Contents of a /proc file, or null when it cannot be read. */
  readProc: (file: string) => Promise<string | null>;
  /** Whether a path exists (e.g. /sys/fs/cgroup/cgroup.controllers, only there on cgroup v2). */
  fileExists: (file: string) => Promise<boolean>;
  platform: NodeJS.Platform;
}

export const defaultProbes = (docker: () => Promise<Problem[]>): PrereqProbes => ({
  docker,
  which: (b) => which(b),
  kernelRelease: () => os.release(),
  readProc: (f) => fs.readFile(f, 'utf8').catch(() => null),
  fileExists: (f) =>
    fs.access(f).then(
      () => true,
      () => false,
    ),
  platform: process.platform,
});

/** `6.1.0-18-amd64` → true for >= 5.10 (or `min`); an unparseable release counts as too old. */
export function kernelAtLeast(release: string, min = MIN_KERNEL): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > min.major || (major === min.major && minor >= min.minor);
}

export async function kindPrerequisites(p: PrereqProbes): Promise<Problem[]> {
  const problems = [...(await p.docker())];
  if (!p.which('kind')) {
    problems.push({
      what: 'kind not found on PATH (it creates the Kubernetes clusters)',
      fix: 'install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and put it on PATH',
    });
  }
  if (!p.which('helm')) {
    problems.push({
      what: 'helm not found on PATH (it installs the lab addons, e.g. Cilium)',
      fix: 'install Helm 3 (https://helm.sh/docs/intro/install/) and put it on PATH',
    });
  }
  // Kind nodes are containers: they run on this machine's kernel. On macOS/Windows the
  // Docker VM's kernel counts, which we cannot see from here.
  if (p.platform !== 'linux') return problems;
  const release = p.kernelRelease();
  if (!kernelAtLeast(release)) {
    problems.push({
      what: `Linux kernel ${release} is older than ${MIN_KERNEL.major}.${MIN_KERNEL.minor} (kind nodes share the host kernel, and Cilium's datapath needs ${MIN_KERNEL.major}.${MIN_KERNEL.minor})`,
      fix: `run Labforge on a host with Linux ${MIN_KERNEL.major}.${MIN_KERNEL.minor} or later`,
    });
  }
  const limits = [
    ['max_user_watches', INOTIFY.watches],
    ['max_user_instances', INOTIFY.instances],
  ] as const;
  for (const [key, min] of limits) {
    const file = `/proc/sys/fs/inotify/${key}`;
    const raw = await p.readProc(file);
    const value = raw === null ? NaN : parseInt(raw.trim(), 10);
    const fix = `sysctl -w fs.inotify.${key}=${min} (and add "fs.inotify.${key} = ${min}" to /etc/sysctl.d/99-labforge.conf to keep it)`;
    if (Number.isNaN(value)) problems.push({ what: `cannot read ${file}`, fix });
    else if (value < min) {
      problems.push({
        what: `fs.inotify.${key} is ${value}, below ${min}: several kind clusters on one host run out of inotify ${key === 'max_user_watches' ? 'watches' : 'instances'} ("too many open files" in the nodes)`,
        fix,
      });
    }
  }
  return problems;
}
