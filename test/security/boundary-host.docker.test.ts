/**
 * The host boundary, against a real Docker engine, from a learner host as a learner would try
 * it (root, through lf-sandbox): nothing on the platform machine answers (a server the test
 * runs on 0.0.0.0 stands in for the platform's port), the network has no way out, the host has
 * the documented capabilities only, no-new-privileges, and a bounded disk where the engine
 * can limit one (otherwise the disk test says why it is skipped).
 */
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../../lib/environments/docker/driver';
import { DEFAULT_CAPABILITIES, diskLimitSupported } from '../../lib/environments/docker/boundary';
import { SANDBOX, type Environment } from '../../lib/environments/driver';
import { dockerHostSchema } from '../../lib/labs/schema';

const driver = new DockerDriver();
let env: Environment;
let server: net.Server;
let port = 0;

const learner = (cmd: string, timeoutMs = 30_000) => driver.exec(env, 'workstation', [SANDBOX, 'bash', '-c', cmd], { timeoutMs });
/** `open` or `closed` for a TCP connect from the learner host, 3 s at most. */
const probe = async (address: string) =>
  (await learner(`timeout 3 bash -c 'echo > /dev/tcp/${address}/${port}' 2>/dev/null && echo open || echo closed`)).stdout.trim();

beforeAll(async () => {
  server = net.createServer((s) => s.on('error', () => {}).end('platform\n'));
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  port = (server.address() as net.AddressInfo).port;
  env = await driver.create(
    {
      owner: `boundary-${randomBytes(4).toString('hex')}`,
      lab: 'boundary-test',
      labRoot: '/tmp',
      environment: {
        driver: 'docker',
        hosts: [dockerHostSchema.parse({ name: 'workstation', image: 'labforge/base', resources: { disk: '256Mi' } })],
      },
    },
    () => {},
  );
}, 240_000);

afterAll(async () => {
  if (env) await driver.destroy(env);
  server?.close();
});

const inspect = () => driver.docker.getContainer(env.hosts[0].ref).inspect();

describe('the host boundary', () => {
  it('lets no learner host reach the platform machine: not the bridge gateway, not docker0', async () => {
    const net0 = await driver.docker.getNetwork(env.meta.networkId).inspect();
    const gateway = net0.IPAM?.Config?.[0]?.Gateway as string;
    // The server answers on those addresses from the machine itself...
    await new Promise<void>((resolve, reject) =>
      net
        .connect(port, gateway)
        .on('connect', function (this: net.Socket) {
          this.destroy();
          resolve();
        })
        .on('error', reject),
    );
    // ...but not to a learner.
    expect(await probe(gateway)).toBe('closed');
    expect(await probe('172.17.0.1')).toBe('closed');
    // The learner's probe itself works: the same port inside the host answers it.
    await learner(`setsid -f socat TCP-LISTEN:${port},reuseaddr,fork SYSTEM:'echo lab' </dev/null >/dev/null 2>&1`);
    await expect.poll(() => probe('127.0.0.1'), { timeout: 10_000 }).toBe('open');
  });

  it('lets nothing out of the lab: a host beyond the platform machine is out of reach', async () => {
    const n = await driver.docker.getNetwork(env.meta.networkId).inspect();
    expect(n.Options?.['com.docker.network.bridge.name']).toMatch(/^lfbr-[0-9a-f]{10}$/);
    // "Outside": a test host in a network namespace of this test's own, routed through the
    // platform machine like any address beyond it would be.
    const ns = `lfout${process.pid % 10000}`;
    const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });
    sh(`ip netns add ${ns} && ip link add ${ns}a type veth peer name ${ns}b && ip link set ${ns}b netns ${ns}
        ip addr add 10.250.77.1/30 dev ${ns}a && ip link set ${ns}a up
        ip -n ${ns} addr add 10.250.77.2/30 dev ${ns}b && ip -n ${ns} link set ${ns}b up && ip -n ${ns} link set lo up
        ip -n ${ns} route add default via 10.250.77.1`);
    const listener = spawn('ip', ['netns', 'exec', ns, 'socat', `TCP-LISTEN:${port},reuseaddr,fork`, 'SYSTEM:echo outside'], { stdio: 'ignore' });
    try {
      // It answers from the platform machine itself: the probe target is real.
      await expect
        .poll(() => sh(`timeout 2 bash -c 'echo > /dev/tcp/10.250.77.2/${port}' 2>/dev/null && echo open || echo closed`).trim(), { timeout: 10_000 })
        .toBe('open');
      expect(await probe('10.250.77.2')).toBe('closed');
    } finally {
      listener.kill();
      sh(`ip netns del ${ns}; ip link del ${ns}a 2>/dev/null || true`);
    }
  });

  it('drops every capability but the documented ones, with no-new-privileges', async () => {
    const info = await inspect();
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect([...(info.HostConfig.CapAdd ?? [])].sort()).toEqual([...DEFAULT_CAPABILITIES].sort());
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
    const r = await learner('mknod /tmp/dev c 1 3 2>&1; ip link add dummy0 type dummy 2>&1; grep NoNewPrivs /proc/self/status');
    expect(r.stdout).toMatch(/mknod: .*Operation not permitted/);
    expect(r.stdout).toMatch(/Operation not permitted/);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
  });

  it('bounds the writable space of a host', async (ctx) => {
    if (!(await diskLimitSupported(driver.docker, await driver.images.ensure('labforge/base')))) {
      console.warn(
        "skipped: this Docker engine cannot limit a container's disk (it needs overlay2 on XFS with pquota; scripts/setup-machine.sh sets one up where the kernel has XFS quotas)",
      );
      ctx.skip();
    }
    expect((await inspect()).HostConfig.StorageOpt).toEqual({ size: String(256 * 1024 * 1024) });
    const r = await learner('dd if=/dev/zero of=/root/fill bs=1M count=1024 2>&1; rm -f /root/fill', 60_000);
    expect(r.stdout).toMatch(/No space left on device|Disk quota exceeded/);
  }, 90_000);
});
