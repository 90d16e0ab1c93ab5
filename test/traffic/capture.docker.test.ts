/**
 * The traffic capture against a real engine: a DockerDriver environment, the
 * capture sidecar beside it, real multicast sent with socat. No skipping:
 * without an engine or the labforge/base image this suite fails and says why.
 */
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../../lib/environments/docker/driver';
import { LABELS, type Environment } from '../../lib/environments/driver';
import { resolveImage } from '../../lib/environments/images/build';
import { dockerHostSchema } from '../../lib/labs/schema';
import { TrafficCaptures } from '../../lib/traffic/capture';
import { SIDECAR_CAPS, TRAFFIC_ROLE, sidecarName } from '../../lib/environments/docker/capture';
import type { TrafficView } from '../../lib/traffic/types';
import { waitFor } from '../support/wait';
import { requireEngine, testOwners } from '../support/docker';

const docker = new Dockerode();
const driver = new DockerDriver({ docker });
const run = randomBytes(3).toString('hex');
const { owners, newOwner } = testOwners(run);
const host = (name: string) => dockerHostSchema.parse({ name, image: 'labforge/base', resources: { memory: '96Mi', cpus: 0.25, pids: 64 } });

async function create(owner: string, names: string[]): Promise<Environment> {
  return driver.create({ owner, lab: 'traffic-test', labRoot: '/tmp', environment: { driver: 'docker', hosts: names.map(host) } }, () => {});
}

/** Containers of the owner's session with the traffic role. */
async function sidecars(owner: string) {
  return docker.listContainers({ all: true, filters: { label: [`${LABELS.session}=${owner}`, `${LABELS.role}=${TRAFFIC_ROLE}`] } });
}

/** Each poll asks the engine or the capture: every 250 ms, 20 s by default. */
const until = (what: string, fn: () => Promise<boolean>, ms = 20_000) => waitFor(what, fn, ms, 250);

const listen = (env: Environment, h: string, group: string, port: number) =>
  driver.exec(env, h, [
    'bash',
    '-c',
    `setsid socat -u UDP4-RECVFROM:${port},reuseaddr,ip-add-membership=${group}:0.0.0.0,fork OPEN:/tmp/got-${port},creat,append >/dev/null 2>&1 < /dev/null & disown; sleep 0.3`,
  ]);
const send = (env: Environment, h: string, group: string, port: number, text: string) =>
  driver.exec(env, h, ['bash', '-c', `printf '%s\\n' "${text}" | socat -u STDIN UDP4-DATAGRAM:${group}:${port},ip-multicast-ttl=2`]);

beforeAll(async () => {
  await requireEngine(docker);
  await driver.images.ensure('labforge/base');
}, 900_000);

afterAll(async () => {
  for (const o of owners) await driver.destroyOwner(o).catch(() => {});
});

describe('a capture beside a 3-host environment', () => {
  const owner = newOwner('cap');
  const captures = new TrafficCaptures({ startWaitMs: 15_000 });
  let env: Environment;
  let first: TrafficView;

  beforeAll(async () => {
    env = await create(owner, ['sender', 'listener', 'early']);
    // Joined before any capture exists: only the start-up snapshot can know about it.
    await listen(env, 'early', '225.0.0.50', 1234);
    first = await captures.view({ driver, env });
  }, 120_000);

  afterAll(() => captures.close());

  it('starts one labelled, locked-down sidecar on the session network', async () => {
    expect(first.capturing).toBe(true);
    expect(first.problem).toBeUndefined();
    const found = await sidecars(owner);
    expect(found).toHaveLength(1);
    const info = await docker.getContainer(found[0].Id).inspect();
    expect(info.Name).toBe(`/${sidecarName(env)}`);
    expect(info.Name).toBe(`/lf-${owner}-traffic`);
    expect(info.Config.Image).toBe(resolveImage('labforge/base'));
    expect(info.Config.Labels).toMatchObject({ [LABELS.managed]: '1', [LABELS.session]: owner, [LABELS.lab]: 'traffic-test', [LABELS.role]: 'traffic' });
    expect(info.Config.Labels[LABELS.host]).toBeUndefined();
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect([...(info.HostConfig.CapAdd ?? [])].sort()).toEqual([...SIDECAR_CAPS].sort());
    expect(info.HostConfig.Privileged).toBe(false);
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([`lf-${owner}`]);
    // A second request reuses it.
    await captures.view({ driver, env });
    expect(await sidecars(owner)).toHaveLength(1);
  });

  it('runs nothing inside the learner hosts', async () => {
    const ps = await driver.exec(env, 'listener', ['ps', '-eo', 'args']);
    expect(ps.stdout).not.toMatch(/tcpdump/);
  });

  it('names the sender and the joined hosts of 225.0.0.42, and who joined before the capture', async () => {
    await listen(env, 'listener', '225.0.0.42', 7777);
    for (let i = 0; i < 3; i++) {
      const r = await send(env, 'sender', '225.0.0.42', 7777, `message ${i}`);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    let view!: TrafficView;
    await until('the sender and the receiver of 225.0.0.42', async () => {
      view = await captures.view({ driver, env });
      const g = view.groups.find((x) => x.group === '225.0.0.42');
      return !!g && g.senders[0]?.packets === 3 && g.receivers.some((r) => r.host === 'listener');
    });
    const g = view.groups.find((x) => x.group === '225.0.0.42')!;
    const senderIp = env.hosts.find((h) => h.name === 'sender')!.address;
    expect(g.senders).toEqual([expect.objectContaining({ host: 'sender', ip: senderIp, packets: 3, ports: [7777] })]);
    expect(g.senders[0].lastSeen).toBeGreaterThan(Date.now() - 60_000);
    expect(g.receivers.map((r) => r.host)).toEqual(['listener']);
    expect(g.series.reduce((n, b) => n + (b.counts.sender ?? 0), 0)).toBe(3);
    // The socat listener in the received file proves the packets were real multicast.
    expect((await driver.exec(env, 'listener', ['cat', '/tmp/got-7777'])).stdout).toContain('message 2');

    const early = view.groups.find((x) => x.group === '225.0.0.50');
    expect(early?.receivers.map((r) => r.host)).toEqual(['early']);
    expect(early?.senders).toEqual([]);
  });

  it('sees a leave', async () => {
    await driver.exec(env, 'listener', ['pkill', '-f', 'UDP4-RECVFROM:7777']);
    await until('listener to leave 225.0.0.42', async () => {
      const v = await captures.view({ driver, env });
      return !!v.groups.find((x) => x.group === '225.0.0.42') && !v.groups.find((x) => x.group === '225.0.0.42')!.receivers.length;
    });
  });

  it('rebuilds the picture from the sidecar log after a restart of the server', async () => {
    const fresh = new TrafficCaptures({ startWaitMs: 15_000 });
    try {
      expect((await fresh.view({ driver, env })).capturing).toBe(true);
      // The log replays asynchronously: the next poll or two shows it.
      await until(
        'the replayed sender',
        async () => {
          const g = (await fresh.view({ driver, env })).groups.find((x) => x.group === '225.0.0.42');
          return g?.senders[0]?.host === 'sender' && g.senders[0].packets === 3;
        },
        10_000,
      );
      expect(await sidecars(owner)).toHaveLength(1);
    } finally {
      await fresh.close();
    }
  });

  it('goes away with destroyOwner', async () => {
    await driver.destroyOwner(owner);
    expect(await sidecars(owner)).toHaveLength(0);
    const nets = await docker.listNetworks({ filters: { label: [`${LABELS.session}=${owner}`] } });
    expect(nets).toHaveLength(0);
    await until('the capture to notice', async () => !(await captures.view({ driver, env })).capturing, 10_000);
  });
});

describe('destroy(env) with a capture running', () => {
  it('removes the hosts, the sidecar and the network', async () => {
    const owner = newOwner('destroy');
    const env = await create(owner, ['solo']);
    const captures = new TrafficCaptures({ startWaitMs: 15_000 });
    try {
      expect((await captures.view({ driver, env })).capturing).toBe(true);
      expect(await sidecars(owner)).toHaveLength(1);
      await driver.destroy(env);
      const filters = { label: [`${LABELS.session}=${owner}`] };
      expect(await docker.listContainers({ all: true, filters })).toHaveLength(0);
      expect(await docker.listNetworks({ filters })).toHaveLength(0);
    } finally {
      await captures.close();
    }
  }, 60_000);
});
