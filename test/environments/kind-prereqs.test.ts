/** Kind prerequisites: one Problem per missing piece, with probes injected (and once on this real machine). */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { Problem } from '../../lib/environments/driver';
import { CGROUP2_MARKER, clusterPrerequisites, needsMulticast, needsSocketLB } from '../../lib/environments/kind/cluster-needs';
import type { CommandRunner } from '../../lib/environments/kind/command';
import { createKindEnvironment, type KindCreateDeps } from '../../lib/environments/kind/create';
import { KindDriver } from '../../lib/environments/kind/driver';
import { kernelAtLeast, kindPrerequisites, type PrereqProbes } from '../../lib/environments/kind/prereqs';
import { which } from '../../lib/base/which';
import { environmentSchema, kindClusterSchema, type KindCluster } from '../../lib/labs/schema';

const good: PrereqProbes = {
  docker: async () => [],
  which: (b) => `/usr/local/bin/${b}`,
  kernelRelease: () => '6.1.0-18-amd64',
  readProc: async (f) => (f.endsWith('max_user_watches') ? '524288\n' : '512\n'),
  fileExists: async (f) => f === CGROUP2_MARKER,
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
        what: "Linux kernel 5.4.0-150-generic is older than 5.10 (kind nodes share the host kernel, and Cilium's datapath needs 5.10)",
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

describe("what one lab's cluster needs from the host (cluster-needs.ts)", () => {
  const cluster = (c: Partial<z.input<typeof kindClusterSchema>> = {}): KindCluster => kindClusterSchema.parse({ nodes: [{ role: 'control-plane' }], ...c });
  const cilium = (values: Record<string, unknown> = {}) => ({ name: 'cilium', chart: 'cilium', repo: 'https://helm.cilium.io/', version: '1.17.6', values });
  /** The lab's shape: Cilium with multicast on, no kube-proxy (so Cilium replaces it). */
  const multicastLab = cluster({ addons: [cilium({ extraConfig: { 'multicast-enabled': 'true' } })] });
  const needs = (c: KindCluster, over: Partial<PrereqProbes>) => clusterPrerequisites(c, { ...good, ...over });
  const multicastKernel = (release: string) => ({
    what: `Linux kernel ${release} is older than 5.13: this lab turns on Cilium multicast, which needs the bpf_for_each_map_elem helper of Linux 5.13 (on older kernels the agents log "Disabled support for BPF Multicast due to missing kernel support" and run without multicast)`,
    fix: 'run this lab on a host with Linux 5.13 or later (kind nodes share the host kernel)',
  });
  const cgroupV1 = {
    what: `this host does not run cgroup v2 (no /sys/fs/cgroup/cgroup.controllers): the lab's Cilium replaces kube-proxy, and its socket load balancing needs cgroup v2 with a cgroup namespace per kind node, or the clusters on this host attach to the same cgroup and break each other's Services`,
    fix: "boot the host with cgroup v2 only (kernel parameter systemd.unified_cgroup_hierarchy=1, the default of current distributions) and keep Docker's cgroup namespaces private (dockerd --default-cgroupns-mode=private, its default on cgroup v2)",
  };

  it('decides from the Cilium addon: multicast from extraConfig, kube-proxy replacement from the values the driver installs', () => {
    expect([needsMulticast(multicastLab), needsSocketLB(multicastLab)]).toEqual([true, true]);
    expect(needsMulticast(cluster({ addons: [cilium({ extraConfig: { 'multicast-enabled': true } })] }))).toBe(true);
    expect(needsMulticast(cluster({ addons: [cilium({ extraConfig: { 'multicast-enabled': 'false' } })] }))).toBe(false);
    // kube-proxy kept: Cilium does not replace it, unless the lab says so.
    expect(needsSocketLB(cluster({ kubeProxyMode: 'iptables', addons: [cilium()] }))).toBe(false);
    expect(needsSocketLB(cluster({ kubeProxyMode: 'iptables', addons: [cilium({ kubeProxyReplacement: true })] }))).toBe(true);
    expect(needsSocketLB(cluster({ addons: [cilium({ kubeProxyReplacement: false })] }))).toBe(false);
    // No Cilium at all: nothing beyond the driver's floor.
    const plain = cluster({ addons: [{ name: 'x', chart: 'oci://example.org/charts/x', version: '1.0.0' }] });
    expect([needsMulticast(plain), needsSocketLB(plain)]).toEqual([false, false]);
  });

  it('wants Linux 5.13 for a multicast lab: 5.12 fails, 5.13 passes', async () => {
    expect(await needs(multicastLab, { kernelRelease: () => '5.12.19-061219-generic' })).toEqual([multicastKernel('5.12.19-061219-generic')]);
    expect(await needs(multicastLab, { kernelRelease: () => '5.13.0-52-generic' })).toEqual([]);
    expect(await needs(multicastLab, { kernelRelease: () => '6.1.0-18-amd64' })).toEqual([]);
    // The general floor stays 5.10 for labs without multicast.
    const noMulticast = cluster({ addons: [cilium()] });
    expect(await needs(noMulticast, { kernelRelease: () => '5.10.0-28-amd64' })).toEqual([]);
    expect(await kindPrerequisites({ ...good, kernelRelease: () => '5.10.0-28-amd64' })).toEqual([]);
  });

  it('wants cgroup v2 when Cilium replaces kube-proxy: cgroup.controllers absent (v1) fails, present (v2) passes', async () => {
    const seen: string[] = [];
    const v1 = async (f: string) => (seen.push(f), false);
    expect(await needs(multicastLab, { fileExists: v1 })).toEqual([cgroupV1]);
    expect(seen).toEqual([CGROUP2_MARKER]);
    expect(await needs(multicastLab, { fileExists: async (f) => f === '/sys/fs/cgroup/cgroup.controllers' })).toEqual([]);
    // kube-proxy kept: cgroup v1 is fine.
    expect(await needs(cluster({ kubeProxyMode: 'iptables', addons: [cilium()] }), { fileExists: v1 })).toEqual([]);
    // Both at once, in that order.
    expect(await needs(multicastLab, { kernelRelease: () => '5.12.0', fileExists: v1 })).toEqual([multicastKernel('5.12.0'), cgroupV1]);
  });

  it('does not judge a host it cannot see (macOS, Windows: the Docker VM)', async () => {
    expect(await needs(multicastLab, { platform: 'darwin', kernelRelease: () => '23.4.0', fileExists: async () => false })).toEqual([]);
  });

  it('is part of the driver prerequisites when a lab is given, and only then', async () => {
    const env = environmentSchema.parse({
      driver: 'kind',
      cluster: { nodes: [{ role: 'control-plane' }], addons: [cilium({ extraConfig: { 'multicast-enabled': 'true' } })] },
      hosts: [{ name: 'workstation', image: 'labforge/base' }],
    });
    const driver = new KindDriver({ dataDir: '/nonexistent-labforge-data', probes: { ...good, kernelRelease: () => '5.12.0', fileExists: async () => false } });
    expect(await driver.prerequisites()).toEqual([]);
    expect(await driver.prerequisites(env)).toEqual([multicastKernel('5.12.0'), cgroupV1]);
  });

  it('refuses a session before anything runs when the host cannot run the lab', async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (cmd, args) => (calls.push([cmd, ...args].join(' ')), { code: 0, stdout: '', stderr: '' });
    const deps = {
      driver: 'kind',
      docker: {} as KindCreateDeps['docker'], // never reached
      run,
      readyTimeoutMs: 1000,
      network: 'kind',
      apiAccess: 'host',
      which: (b: string) => `/usr/local/bin/${b}`,
      hostProblems: (c: KindCluster) => clusterPrerequisites(c, { ...good, kernelRelease: () => '5.12.0' }),
      files: () => ({ kubeconfig: '/nonexistent/k.yaml', claim: '/nonexistent/c.json' }),
      destroyOwner: async () => {},
    } satisfies KindCreateDeps;
    const environment = environmentSchema.parse({
      driver: 'kind',
      cluster: { nodes: [{ role: 'control-plane' }], addons: [cilium({ extraConfig: { 'multicast-enabled': 'true' } })] },
      hosts: [{ name: 'workstation', image: 'labforge/base' }],
    });
    const err = await createKindEnvironment(deps, { owner: 'abc', lab: 'l', labRoot: '/nonexistent', environment }, () => {}).catch((e: Error) => e);
    expect(err).toMatchObject({
      name: 'EnvironmentError',
      message: `this host cannot run the lab: ${multicastKernel('5.12.0').what}`,
      hint: multicastKernel('5.12.0').fix,
    });
    expect(calls).toEqual([]);
  });
});
