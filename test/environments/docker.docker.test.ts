/**
 * The Docker driver against the real engine. No skipping: without a reachable
 * engine this suite fails and says how to fix it. Builds labforge/base once if
 * it is missing (about 90 s), then reuses it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../../lib/environments/docker/driver';
import { EnvironmentError, LABELS, type Environment, type EnvironmentSpec, type ProgressStep } from '../../lib/environments/driver';
import { dockerHostSchema, type DockerHost } from '../../lib/labs/schema';
import { requireEngine, testOwners } from '../support/docker';
import { sleep } from '../support/wait';

const docker = new Dockerode();
const driver = new DockerDriver({ docker });
const run = randomBytes(3).toString('hex');
const { owners, newOwner } = testOwners(run);
const host = (h: Partial<DockerHost> & { name: string }): DockerHost => dockerHostSchema.parse({ image: 'labforge/base', ...h });

let labRoot: string;
const spec = (owner: string, hosts: DockerHost[]): EnvironmentSpec => ({
  owner,
  lab: 'driver-test',
  labRoot,
  environment: { driver: 'docker', hosts },
});

async function labelled(owner: string) {
  const filters = { label: [`${LABELS.session}=${owner}`] };
  const [containers, networks] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters })]);
  return containers.length + networks.length;
}

beforeAll(async () => {
  await requireEngine(docker);
  expect(await driver.prerequisites()).toEqual([]);
  labRoot = mkdtempSync(path.join(os.tmpdir(), 'lf-lab-'));
  mkdirSync(path.join(labRoot, 'assets/tree/sub'), { recursive: true });
  writeFileSync(path.join(labRoot, 'assets/hello.sh'), '#!/bin/sh\necho hello from the lab\n');
  writeFileSync(path.join(labRoot, 'assets/tree/a.txt'), 'A');
  writeFileSync(path.join(labRoot, 'assets/tree/sub/b.txt'), 'B');
  const steps: ProgressStep[] = [];
  await driver.images.ensure('labforge/base', (p) => steps.push(p));
}, 900_000);

afterAll(async () => {
  for (const o of owners) await driver.destroyOwner(o).catch(() => {});
  if (labRoot) rmSync(labRoot, { recursive: true, force: true });
});

describe('a 3-host environment', () => {
  let env: Environment;
  const steps: ProgressStep[] = [];
  const owner = newOwner('main');

  beforeAll(async () => {
    env = await driver.create(
      spec(owner, [
        host({
          name: 'workstation',
          env: { LAB_COLOR: 'blue' },
          resources: { memory: '256Mi', cpus: 0.5, pids: 200, disk: '2Gi' },
          files: [
            { from: 'assets/hello.sh', to: '/opt/lab/bin/hello', mode: '0750' },
            { from: 'assets/tree', to: '/root/tree' },
          ],
        }),
        host({ name: 'luke' }),
        host({ name: 'leia', workdir: '/srv' }),
      ]),
      (p) => steps.push(p),
    );
  });

  it('reports progress and returns handles with addresses', () => {
    expect(env.hosts.map((h) => h.name)).toEqual(['workstation', 'luke', 'leia']);
    for (const h of env.hosts) expect(h.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const done = steps.filter((s) => s.status === 'done').map((s) => s.step);
    expect(done).toEqual(expect.arrayContaining(['Preparing images', 'Creating network', 'Creating 3 hosts', 'Starting 3 hosts', 'Copying files']));
    expect(steps.every((s) => s.status !== 'done' || typeof s.ms === 'number')).toBe(true);
  });

  it('creates labelled, limited, unprivileged containers on a private network', async () => {
    const info = await docker.getContainer(env.hosts[0].ref).inspect();
    expect(info.Name).toBe(`/lf-${owner}-workstation`);
    expect(info.Config.Hostname).toBe('workstation');
    expect(info.Config.Labels).toMatchObject({ [LABELS.managed]: '1', [LABELS.session]: owner, [LABELS.host]: 'workstation', [LABELS.lab]: 'driver-test' });
    expect(info.Config.Env).toEqual(expect.arrayContaining(['LANG=C.UTF-8', 'TERM=xterm-256color', 'LAB_COLOR=blue']));
    expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.PidsLimit).toBe(200);
    expect(info.HostConfig.Init).toBe(true);
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.Binds ?? []).toEqual([]);
    // Only the toolbox, read-only: no host paths, no Docker socket.
    expect(info.Mounts.map((m) => ({ type: m.Type, to: m.Destination, rw: m.RW }))).toEqual([{ type: 'volume', to: '/.labforge', rw: false }]);
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([`lf-${owner}`]);
    const net = await docker.getNetwork(env.meta.networkId).inspect();
    expect(net.Driver).toBe('bridge');
    expect(net.Labels?.[LABELS.session]).toBe(owner);
  });

  it('copies host files with their modes', async () => {
    const r = await driver.exec(env, 'workstation', [
      'sh',
      '-c',
      'stat -c "%a %n" /opt/lab/bin/hello && /opt/lab/bin/hello && cat /root/tree/a.txt /root/tree/sub/b.txt',
    ]);
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    expect(r.stdout).toBe('750 /opt/lab/bin/hello\nhello from the lab\nAB');
  });

  it('runs commands with stdout, stderr, exit code, env, cwd and user', async () => {
    const r = await driver.exec(env, 'workstation', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false });
    const ctx = await driver.exec(env, 'leia', ['sh', '-c', 'echo "$PWD $FOO $LANG $(id -un)"'], { env: { FOO: 'bar' } });
    expect(ctx.stdout).toBe('/srv bar C.UTF-8 root\n');
    const other = await driver.exec(env, 'leia', ['sh', '-c', 'echo "$PWD $(id -un)"'], { cwd: '/tmp', user: 'nobody' });
    expect(other.stdout).toBe('/tmp nobody\n');
    const missing = await driver.exec(env, 'leia', ['no-such-command']);
    expect(missing).toMatchObject({ exitCode: 127, stdout: '' });
    expect(missing.stderr).toMatch(/no-such-command.*(executable file not found|No such file or directory)/);
    const noUser = await driver.exec(env, 'leia', ['true'], { user: 'nosuchuser' });
    expect(noUser.exitCode).not.toBe(0);
    expect(noUser.stderr).toContain('unable to find user nosuchuser');
  });

  it('feeds stdin, binary-safe', async () => {
    const r = await driver.exec(env, 'luke', ['sh', '-c', 'tr a-z A-Z'], { stdin: 'hello\nworld\n' });
    expect(r.stdout).toBe('HELLO\nWORLD\n');
    const blob = randomBytes(200_000);
    const sum = await driver.exec(env, 'luke', ['sh', '-c', 'wc -c'], { stdin: blob });
    expect(sum.stdout.trim()).toBe('200000');
  });

  it('kills the whole process tree on timeout', async () => {
    const started = Date.now();
    const r = await driver.exec(env, 'luke', ['sh', '-c', 'sleep 1001 & setsid sleep 1002 & sleep 1000'], { timeoutMs: 1000 });
    expect(r.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(6000);
    const left = await driver.exec(env, 'luke', ['sh', '-c', 'pgrep -af "[s]leep 100[012]" || echo none']);
    expect(left.stdout).toBe('none\n');
  });

  it('returns when the command ends even if a background child still holds its output', async () => {
    const r = await driver.exec(env, 'luke', ['sh', '-c', 'echo start; sleep 1003 & echo end; exit 4'], { timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 4, stdout: 'start\nend\n', timedOut: false });
    expect(r.durationMs).toBeLessThan(5000);
    // Setup scripts start services on purpose: a normal exit leaves them running.
    expect((await driver.exec(env, 'luke', ['pgrep', '-f', 'sleep 1003'])).exitCode).toBe(0);
    await driver.exec(env, 'luke', ['pkill', '-f', 'sleep 1003']);
  });

  it('caps captured output', async () => {
    const r = await driver.exec(env, 'luke', ['sh', '-c', 'head -c 1200000 /dev/zero | tr "\\0" x']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('[labforge: output truncated');
    expect(r.stdout.length).toBeLessThan(1024 * 1024 + 200);
  });

  it('writes and reads files, binary-safe, creating parent directories', async () => {
    const blob = randomBytes(300_000);
    await driver.writeFile(env, 'workstation', '/var/tmp/deep/er/blob.bin', blob, 0o600);
    expect((await driver.readFile(env, 'workstation', '/var/tmp/deep/er/blob.bin')).equals(blob)).toBe(true);
    const st = await driver.exec(env, 'workstation', ['stat', '-c', '%a %U', '/var/tmp/deep/er/blob.bin']);
    expect(st.stdout).toBe('600 root\n');
    // Writing into an existing dir keeps that dir's own mode.
    await driver.writeFile(env, 'workstation', '/root/note.txt', 'hi ✓');
    expect((await driver.readFile(env, 'workstation', '/root/note.txt')).toString()).toBe('hi ✓');
    expect((await driver.exec(env, 'workstation', ['stat', '-c', '%a', '/root'])).stdout).toBe('700\n');
    await driver.exec(env, 'workstation', ['ln', '-s', 'note.txt', '/root/link']);
    expect((await driver.readFile(env, 'workstation', '/root/link')).toString()).toBe('hi ✓');
    await expect(driver.readFile(env, 'workstation', '/root/x')).rejects.toThrow('no file /root/x in host workstation');
    await expect(driver.readFile(env, 'workstation', '/root')).rejects.toThrow('/root is a directory, not a file');
    await expect(driver.exec(env, 'nobody', ['true'])).rejects.toThrow(EnvironmentError);
  });

  it('lets hosts resolve each other by name', async () => {
    const r = await driver.exec(env, 'workstation', ['sh', '-c', 'getent hosts luke leia && ping -c1 -W2 leia >/dev/null && echo ok']);
    expect(r.stdout).toContain(env.hosts[1].address);
    expect(r.stdout).toContain(env.hosts[2].address);
    expect(r.stdout).toContain('ok\n');
  });

  it('carries real multicast between hosts', async () => {
    const listen = await driver.exec(env, 'luke', [
      'sh',
      '-c',
      'socat -u UDP4-RECVFROM:1234,reuseaddr,ip-add-membership=225.0.0.50:0.0.0.0 OPEN:/tmp/mc.out,creat,append </dev/null >/dev/null 2>&1 &',
    ]);
    expect(listen.exitCode).toBe(0);
    let joined = '';
    for (let i = 0; i < 50 && !joined.includes('320000E1'); i++) {
      joined = (await driver.exec(env, 'luke', ['cat', '/proc/net/igmp'])).stdout;
      if (!joined.includes('320000E1')) await sleep(100);
    }
    expect(joined).toContain('320000E1'); // 225.0.0.50, little-endian hex
    expect((await driver.exec(env, 'luke', ['ip', 'maddr', 'show', 'dev', 'eth0'])).stdout).toContain('inet  225.0.0.50');
    const send = await driver.exec(env, 'workstation', ['sh', '-c', 'echo hello-multicast | socat -u STDIN UDP4-DATAGRAM:225.0.0.50:1234,ip-multicast-ttl=2']);
    expect(send.exitCode).toBe(0);
    let got = '';
    for (let i = 0; i < 50 && !got.includes('hello-multicast'); i++) {
      got = (await driver.readFile(env, 'luke', '/tmp/mc.out').catch(() => Buffer.from(''))).toString();
      if (!got) await sleep(100);
    }
    expect(got).toBe('hello-multicast\n');
  });

  it('opens a terminal with job control, resizes it, and closeTerminal ends what it started', async () => {
    const terminalId = `t${run}`;
    const term = await driver.openTerminal(env, 'workstation', { cols: 80, rows: 24, terminalId });
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
    const waitFor = async (re: RegExp, what: string) => {
      for (let i = 0; i < 100; i++) {
        if (re.test(screen)) return;
        await sleep(100);
      }
      throw new Error(`terminal never showed ${what}; screen so far:\n${screen}`);
    };
    await waitFor(/root@workstation:~# $/m, 'a prompt');
    term.write('echo $((6*7)) $TERM $LAB_COLOR\r');
    await waitFor(/^42 xterm-256color blue\r?$/m, 'the command output');
    term.resize(100, 40);
    // An Engine API call, coalesced: ask until it has landed (a busy engine takes a while).
    for (let i = 0; i < 40 && !/^40 100\r?$/m.test(screen); i++) {
      term.write('stty size\r');
      await sleep(250);
    }
    await waitFor(/^40 100\r?$/m, 'the new size');
    term.write('sleep 1000 &\r');
    term.write('jobs\r');
    await waitFor(/\[1\]\+\s+Running\s+sleep 1000 &/, 'a job in the job table');
    expect(screen).not.toMatch(/no job control/);
    term.write('nohup setsid sleep 1001 >/dev/null 2>&1 &\r');
    await sleep(300);
    const before = await driver.exec(env, 'workstation', ['sh', '-c', 'pgrep -c -f "sleep 100[01]"']);
    expect(before.stdout.trim()).toBe('2');

    await driver.closeTerminal(env, 'workstation', terminalId);
    const left = await driver.exec(env, 'workstation', ['sh', '-c', 'pgrep -af "[s]leep 100[01]|[b]ash -l" || echo none']);
    expect(left.stdout).toBe('none\n');
    // With the shell gone inside, its Engine API stream ends too, and the exit is reported.
    await Promise.race([exited, sleep(5000).then(() => Promise.reject(new Error('the terminal did not report its exit')))]);
  });

  it('rejects bad terminal sizes and ids', async () => {
    await expect(driver.openTerminal(env, 'workstation', { cols: 0, rows: 24, terminalId: 'x' })).rejects.toThrow(/invalid terminal options: cols/);
    await expect(driver.openTerminal(env, 'workstation', { cols: 80, rows: NaN, terminalId: 'x' })).rejects.toThrow(EnvironmentError);
    await expect(driver.openTerminal(env, 'workstation', { cols: 80, rows: 24, terminalId: 'x; rm -rf /' })).rejects.toThrow(/terminalId/);
  });

  it('health notices a stopped host', async () => {
    expect(await driver.health(env)).toEqual({ ok: true });
    await docker.getContainer(env.hosts[1].ref).kill();
    await sleep(200);
    expect(await driver.health(env)).toEqual({ ok: false, detail: 'host luke is exited' });
    await expect(driver.exec(env, 'luke', ['true'])).rejects.toThrow(/host luke is not running/);
  });

  it('destroy leaves nothing with the owner label, and is idempotent', async () => {
    expect(await labelled(owner)).toBe(4);
    await driver.destroy(env);
    expect(await labelled(owner)).toBe(0);
    await driver.destroy(env);
    expect(await driver.health(env)).toEqual({ ok: false, detail: 'host workstation is gone' });
  });
});

describe('lifecycle edges', () => {
  it('list finds leftovers by label and destroyOwner removes them', async () => {
    const owner = newOwner('leftover');
    await driver.create(spec(owner, [host({ name: 'solo' })]), () => {});
    const found = (await driver.list()).find((f) => f.owner === owner);
    expect(found).toMatchObject({ owner, lab: 'driver-test' });
    expect(found!.resources).toHaveLength(2); // container + network
    await driver.destroyOwner(owner);
    expect((await driver.list()).find((f) => f.owner === owner)).toBeUndefined();
    await driver.destroyOwner(owner); // already gone is fine
  });

  it('a missing image is a clear error naming image and host, and leaves nothing behind', async () => {
    const owner = newOwner('noimage');
    const err = await driver.create(spec(owner, [host({ name: 'ok' }), host({ name: 'odd', image: 'labforge/does-not-exist:1' })]), () => {}).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toMatch(/host odd: image "labforge\/does-not-exist:1" is not on this machine/);
    expect(await labelled(owner)).toBe(0);
  });

  it('a failure after containers exist cleans up everything it created', async () => {
    const owner = newOwner('badfile');
    const steps: ProgressStep[] = [];
    const err = await driver
      .create(spec(owner, [host({ name: 'a' }), host({ name: 'b', files: [{ from: '../../etc/passwd', to: '/root/p' }] })]), (p) => steps.push(p))
      .catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toMatch(/copying files into host b failed: lab file "..\/..\/etc\/passwd" (points outside|does not exist)/);
    expect(steps.find((s) => s.status === 'failed')?.step).toBe('Copying files');
    expect(await labelled(owner)).toBe(0);
  });

  it('respects an aborted signal, and refuses owners unfit for names', async () => {
    const owner = newOwner('abort');
    const ac = new AbortController();
    ac.abort();
    await expect(driver.create(spec(owner, [host({ name: 'a' })]), () => {}, ac.signal)).rejects.toThrow(/cancelled/);
    expect(await labelled(owner)).toBe(0);
    await expect(driver.create(spec('bad owner!', [host({ name: 'a' })]), () => {})).rejects.toThrow(/invalid environment owner/);
  });
});
