/**
 * Host-to-host SSH (track.yml `environment.ssh`) against the real engine: three hosts, each
 * reaching the others by name and by address with strict host key checking and no prompt, keys
 * not readable by others, nothing secret in the Environment record, sshd back after a restart.
 */
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../../lib/environments/docker/driver';
import type { Environment, ProgressStep } from '../../lib/environments/driver';
import { dockerHostSchema } from '../../lib/labs/schema';
import { requireEngine, testOwners } from '../support/docker';

const docker = new Dockerode();
const driver = new DockerDriver({ docker });
const { owners, newOwner } = testOwners(randomBytes(3).toString('hex'));
const NAMES = ['workstation', 'luke', 'leia'];
/** BatchMode: a prompt of any kind (password, unknown host) fails instead of waiting. */
const SSH = ['ssh', '-n', '-o', 'BatchMode=yes'];

let env: Environment;
const steps: ProgressStep[] = [];

beforeAll(async () => {
  await requireEngine(docker);
  await driver.images.ensure('labforge/base', () => {});
  env = await driver.create(
    {
      owner: newOwner('ssh'),
      lab: 'ssh-test',
      labRoot: process.cwd(),
      environment: { driver: 'docker', ssh: true, hosts: NAMES.map((name) => dockerHostSchema.parse({ name, image: 'labforge/base' })) },
    },
    (p) => steps.push(p),
  );
}, 900_000);

afterAll(async () => {
  for (const o of owners) await driver.destroyOwner(o).catch(() => {});
});

describe('a 3-host environment with ssh', () => {
  it('reports the SSH steps with their durations', () => {
    const done = steps.filter((s) => s.status === 'done');
    expect(done.map((s) => s.step)).toEqual(expect.arrayContaining(['Copying files', 'Starting SSH servers']));
    for (const s of done) expect(typeof s.ms).toBe('number');
  });

  it('lets every host run a command in every other, by name, with strict host key checking', async () => {
    for (const from of NAMES) {
      for (const to of NAMES.filter((n) => n !== from)) {
        const r = await driver.exec(env, from, [...SSH, '-o', 'StrictHostKeyChecking=yes', to, 'hostname']);
        expect({ from, to, ...r }).toMatchObject({ from, to, exitCode: 0, stdout: `${to}\n` });
      }
    }
  });

  it('knows hosts by address too, and ssh -G shows the platform defaults', async () => {
    const leia = env.hosts.find((h) => h.name === 'leia')!;
    const r = await driver.exec(env, 'luke', [...SSH, leia.address!, 'hostname']);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'leia\n' });
    const g = await driver.exec(env, 'luke', ['ssh', '-G', 'leia']);
    expect(g.stdout).toMatch(/^user root$/m);
    expect(g.stdout).toMatch(/^stricthostkeychecking (yes|true)$/m);
  });

  it('refuses a host whose key it does not know: checking is strict, not accept-new', async () => {
    const r = await driver.exec(env, 'workstation', [...SSH, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'UserKnownHostsFile=/dev/null', 'luke', 'hostname']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Host key verification failed|No ED25519 host key is known/);
    // The learner's own known_hosts stays theirs: nothing was written there.
    expect((await driver.exec(env, 'workstation', ['sh', '-c', 'test -e /root/.ssh/known_hosts && echo yes || echo no'])).stdout).toBe('no\n');
  });

  it('keeps private keys and the .ssh folder unreadable to others', async () => {
    const r = await driver.exec(env, 'leia', [
      'stat',
      '-c',
      '%a %U %n',
      '/root/.ssh',
      '/root/.ssh/id_ed25519',
      '/root/.ssh/authorized_keys',
      '/etc/ssh/ssh_host_ed25519_key',
      '/etc/ssh/ssh_known_hosts',
    ]);
    expect(r.stdout).toBe(
      [
        '700 root /root/.ssh',
        '600 root /root/.ssh/id_ed25519',
        '600 root /root/.ssh/authorized_keys',
        '600 root /etc/ssh/ssh_host_ed25519_key',
        '644 root /etc/ssh/ssh_known_hosts',
        '',
      ].join('\n'),
    );
    // /root itself keeps its own mode (the archive does not list it).
    expect((await driver.exec(env, 'leia', ['stat', '-c', '%a', '/root'])).stdout).toBe('700\n');
  });

  it('stores no key in the Environment record (it goes to the database)', () => {
    const record = JSON.stringify(env);
    expect(record).not.toMatch(/PRIVATE KEY|ssh-ed25519/);
    expect(env.meta.sshHosts).toBe('workstation,luke,leia');
  });

  it('logs logins, and runs sshd sandboxed (without CAP_SETPCAP, like a learner process)', async () => {
    const log = await driver.exec(env, 'luke', ['cat', '/var/log/sshd.log']);
    expect(log.stdout).toContain('Accepted publickey for root from');
    const caps = await driver.exec(env, 'luke', ['sh', '-c', 'grep CapBnd /proc/$(cat /run/sshd.pid)/status']);
    const bnd = BigInt(`0x${caps.stdout.split(/\s+/)[1]}`);
    expect(bnd & (1n << 8n)).toBe(0n); // CAP_SETPCAP is bit 8
  });

  it('starts sshd again when a stopped host is restarted', async () => {
    const luke = env.hosts.find((h) => h.name === 'luke')!;
    await docker.getContainer(luke.ref).stop({ t: 0 });
    const handle = await driver.restartHost(env, 'luke');
    env = { ...env, hosts: env.hosts.map((h) => (h.name === 'luke' ? handle : h)) };
    const r = await driver.exec(env, 'workstation', [...SSH, 'luke', 'hostname']);
    // A new address after the restart would fail known_hosts for the address, never for the name.
    expect(r).toMatchObject({ exitCode: 0, stdout: 'luke\n' });
  });
});
