/**
 * The toolbox mount and platform-side injections, against a real Docker engine: the learner
 * (root, through lf-sandbox, as in a terminal) cannot alter the toolbox, and a datagram the
 * platform injects "from" a host arrives with that host's address while nothing of it is
 * found inside that host.
 */
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../../lib/environments/docker/driver';
import { LABELS, SANDBOX, type Environment } from '../../lib/environments/driver';
import { dockerHostSchema } from '../../lib/labs/schema';

const driver = new DockerDriver();
let env: Environment;

/** A command as the learner runs it: root, sandboxed, the host's own shell. */
const learner = (host: string, cmd: string) => driver.exec(env, host, [SANDBOX, 'bash', '-c', cmd], { timeoutMs: 20_000 });

beforeAll(async () => {
  env = await driver.create(
    {
      owner: `toolbox-${randomBytes(4).toString('hex')}`,
      lab: 'toolbox-test',
      labRoot: '/tmp',
      environment: { driver: 'docker', hosts: ['listener', 'sender'].map((name) => dockerHostSchema.parse({ name, image: 'labforge/base' })) },
    },
    () => {},
  );
});

afterAll(async () => {
  if (env) await driver.destroy(env);
});

describe('the toolbox', () => {
  it('is there, static, and read-only to a root learner', async () => {
    const r = await learner(
      'listener',
      [
        '/.labforge/bin/bash -c "echo \\$BASH_VERSION"',
        'touch /.labforge/bin/x 2>&1 || true',
        'rm -f /.labforge/bin/bash 2>&1 || true',
        'mv /.labforge /moved 2>&1 || true',
        'mount -o remount,rw /.labforge 2>&1 || true',
        'umount /.labforge 2>&1 || true',
        'ls /.labforge/bin/bash /.labforge/bin/busybox /.labforge/bin/fail-message',
      ].join('; '),
    );
    const out = r.stdout;
    expect(out).toMatch(/^5\.2/);
    expect(out).toMatch(/touch: .*Read-only file system/);
    expect(out).toMatch(/rm: .*Read-only file system/);
    expect(out).toMatch(/mv: .*(Device or resource busy|Read-only)/);
    expect(out).toMatch(/mount: .*(permission denied|must be superuser|Operation not permitted)/i);
    expect(out).toContain('/.labforge/bin/bash\n/.labforge/bin/busybox\n/.labforge/bin/fail-message');
  });

  it('sandboxes: a learner process has no CAP_SETPCAP and cannot get it back', async () => {
    const r = await learner('listener', 'grep CapBnd /proc/self/status; /.labforge/bin/lf-sandbox grep CapBnd /proc/self/status');
    const [first, again] = r.stdout
      .trim()
      .split('\n')
      .map((l) => BigInt(`0x${l.split(/\s+/)[1]}`));
    const SETPCAP = 1n << 8n;
    expect(first & SETPCAP).toBe(0n);
    expect(again).toBe(first);
    const platform = await driver.exec(env, 'listener', ['/.labforge/bin/grep', 'CapBnd', '/proc/self/status']);
    expect(BigInt(`0x${platform.stdout.split(/\s+/)[1]}`) & SETPCAP).toBe(SETPCAP);
  });
});

describe('inject', () => {
  it('sends from the host address, with nothing of it inside the host, and leaves no sidecar', async () => {
    const tail = randomBytes(8).toString('hex');
    const payload = `secret-${tail}`;
    // The searches assemble the pattern at run time and hand it to grep through a pipe: their
    // own command lines (which they read too) must not hold it.
    const pattern = `p=secret-; p=\${p}${tail}`;
    await learner(
      'listener',
      'setsid -f socat -d -d -u UDP4-RECV:5555,reuseaddr,ip-add-membership=225.0.0.77:0.0.0.0 OPEN:/root/heard,creat,append </dev/null >/dev/null 2>/root/socat.log',
    );
    await expect.poll(async () => (await learner('listener', 'cat /proc/net/igmp')).stdout, { timeout: 10_000 }).toContain('4D0000E1');

    // Meanwhile the sender host is searched for the payload, as a learner would.
    const scan = learner(
      'sender',
      `${pattern}; for i in $(seq 1 40); do cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | grep -qaF -f <(printf %s "$p") && echo FOUND; sleep 0.1; done; echo scanned`,
    );
    await driver.inject(env, 'sender', { address: '225.0.0.77', port: 5555, payload: Buffer.from(`${payload}\n`), count: 2, intervalMs: 100 });
    await expect.poll(async () => (await learner('listener', 'cat /root/heard')).stdout, { timeout: 10_000 }).toBe(`${payload}\n${payload}\n`);

    const senderAddress = env.hosts.find((h) => h.name === 'sender')!.address!;
    expect((await learner('listener', 'cat /root/socat.log')).stdout).toContain(`bytes from AF=2 ${senderAddress}:`);
    const scanned = await scan;
    expect(scanned.stdout).toContain('scanned');
    expect(scanned.stdout).not.toContain('FOUND');
    // The same search finds the payload where it did arrive: it is no dud.
    expect((await learner('listener', `${pattern}; grep -qsF -f <(printf %s "$p") /root/heard && echo FOUND`)).stdout).toBe('FOUND\n');
    expect(
      (await learner('sender', `${pattern}; grep -rqsF -f <(printf %s "$p") / --exclude-dir=proc --exclude-dir=sys && echo FOUND; echo done`)).stdout,
    ).toBe('done\n');

    const sidecars = await new Dockerode().listContainers({ all: true, filters: { label: [`${LABELS.session}=${env.owner}`, `${LABELS.role}=inject`] } });
    expect(sidecars).toEqual([]);
  });

  it('names the host when it cannot send', async () => {
    await expect(driver.inject(env, 'nobody', { address: '225.0.0.77', port: 5555, payload: Buffer.from('x'), count: 1, intervalMs: 0 })).rejects.toThrow(
      /no host "nobody"/,
    );
  });
});
