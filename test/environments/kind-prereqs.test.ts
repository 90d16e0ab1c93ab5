/** Kind prerequisites: one Problem per missing piece, with probes injected (and once on this real machine). */
import { describe, expect, it } from 'vitest';
import type { Problem } from '../../lib/environments/driver';
import { KindDriver } from '../../lib/environments/kind/driver';
import { kernelAtLeast, kindPrerequisites, type PrereqProbes } from '../../lib/environments/kind/prereqs';
import { which } from '../../lib/base/which';

const good: PrereqProbes = {
  docker: async () => [],
  which: (b) => `/usr/local/bin/${b}`,
  kernelRelease: () => '6.1.0-18-amd64',
  readProc: async (f) => (f.endsWith('max_user_watches') ? '524288\n' : '512\n'),
  platform: 'linux',
};
const check = (over: Partial<PrereqProbes>) => kindPrerequisites({ ...good, ...over });

describe('kind prerequisites', () => {
  it('finds nothing wrong on a ready machine', async () => {
    expect(await check({})).toEqual([]);
  });

  it('names kind and helm when they are not on PATH', async () => {
    const problems = await check({ which: () => null });
    expect(problems).toEqual([
      {
        what: 'kind not found on PATH (it creates the Kubernetes clusters)',
        fix: 'install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and put it on PATH',
      },
      {
        what: 'helm not found on PATH (it installs the lab addons, e.g. Cilium)',
        fix: 'install Helm 3 (https://helm.sh/docs/intro/install/) and put it on PATH',
      },
    ]);
  });

  it('passes the Docker problems through first', async () => {
    const docker: Problem = { what: 'Docker engine not reachable at /var/run/docker.sock', fix: 'install docker.io and start dockerd' };
    expect(await check({ docker: async () => [docker], which: (b) => (b === 'helm' ? null : '/x') })).toEqual([
      docker,
      expect.objectContaining({ what: expect.stringMatching(/^helm not found/) }),
    ]);
  });

  it('wants Linux 5.10 or later', async () => {
    expect(await check({ kernelRelease: () => '5.4.0-150-generic' })).toEqual([
      {
        what: "Linux kernel 5.4.0-150-generic is older than 5.10 (kind nodes share the host kernel; Cilium's multicast datapath needs 5.10)",
        fix: 'run Labforge on a host with Linux 5.10 or later',
      },
    ]);
    expect(kernelAtLeast('5.10.0')).toBe(true);
    expect(kernelAtLeast('5.9.16')).toBe(false);
    expect(kernelAtLeast('6.0')).toBe(true);
    expect(kernelAtLeast('4.19.0')).toBe(false);
    expect(kernelAtLeast('weird')).toBe(false);
  });

  it('wants the inotify limits kind clusters need, with the sysctl that fixes them', async () => {
    const problems = await check({ readProc: async (f) => (f.endsWith('max_user_watches') ? '8192' : '128') });
    expect(problems).toEqual([
      {
        what: 'fs.inotify.max_user_watches is 8192, below 524288: several kind clusters on one host run out of inotify watches ("too many open files" in the nodes)',
        fix: 'sysctl -w fs.inotify.max_user_watches=524288 (and add "fs.inotify.max_user_watches = 524288" to /etc/sysctl.d/99-labforge.conf to keep it)',
      },
      {
        what: 'fs.inotify.max_user_instances is 128, below 512: several kind clusters on one host run out of inotify instances ("too many open files" in the nodes)',
        fix: 'sysctl -w fs.inotify.max_user_instances=512 (and add "fs.inotify.max_user_instances = 512" to /etc/sysctl.d/99-labforge.conf to keep it)',
      },
    ]);
  });

  it('says so when a limit cannot be read', async () => {
    const problems = await check({ readProc: async (f) => (f.endsWith('max_user_instances') ? null : '524288') });
    expect(problems.map((p) => p.what)).toEqual(['cannot read /proc/sys/fs/inotify/max_user_instances']);
  });

  it('does not judge the kernel of a Docker VM it cannot see (macOS, Windows)', async () => {
    expect(await check({ platform: 'darwin', kernelRelease: () => '23.4.0', readProc: async () => null })).toEqual([]);
  });

  it('finds binaries on a PATH', () => {
    expect(which('sh', { PATH: '/nonexistent:/bin' })).toBe('/bin/sh');
    expect(which('surely-not-a-binary-xyz', { PATH: '/bin:/usr/bin' })).toBeNull();
  });

  it('on this machine: reports exactly what is missing, and constructing the driver spawns nothing', async () => {
    const driver = new KindDriver({ dataDir: '/nonexistent-labforge-data' });
    const problems = await driver.prerequisites();
    for (const p of problems) {
      expect(p.what.length).toBeGreaterThan(0);
      expect(p.fix.length).toBeGreaterThan(0);
    }
    expect(problems.some((p) => p.what.startsWith('kind not found'))).toBe(which('kind') === null);
    expect(problems.some((p) => p.what.startsWith('helm not found'))).toBe(which('helm') === null);
  });
});
