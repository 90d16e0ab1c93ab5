/**
 * The fleet's own logic over seam fakes (the real two-engine run: test/faults/engine-fleet.test.ts):
 * placement by load per CPU with creations in flight counted, calls routed by the record's engine,
 * a silent engine skipped at once and its sessions' hosts `gone` only after the grace period.
 */
import { describe, expect, it } from 'vitest';
import type { Environment, EnvironmentSpec } from '../../lib/environments/driver';
import { EnvironmentError } from '../../lib/environments/driver';
import { DockerFleet, engineStatuses } from '../../lib/environments/fleet';
import { parseEngines } from '../../lib/base/engine-list';
import { engineOptions } from '../../lib/environments/docker/engines';
import { MemoryDriver } from '../support/memory-driver';

class FakeEngine extends MemoryDriver {
  up = true;
  running = 0;
  gate?: Promise<void>;
  readonly execs: string[] = [];
  constructor(readonly cpus: number) {
    super();
  }
  async ping() {
    if (!this.up) throw new Error('connect ECONNREFUSED /var/run/b.sock');
  }
  async load() {
    await this.ping();
    return { cpus: this.cpus, memoryBytes: 4 * 2 ** 30, labContainers: this.running };
  }
  override async create(spec: EnvironmentSpec): Promise<Environment> {
    await this.gate;
    this.running += spec.environment.hosts.length;
    return super.create(spec);
  }
  override async exec(...args: Parameters<MemoryDriver['exec']>) {
    this.execs.push((args as unknown as [Environment])[0].owner);
    return super.exec(...args);
  }
  override async hosts(env: Environment) {
    await this.ping();
    return super.hosts(env);
  }
}

const spec = (owner: string, hosts = 2): EnvironmentSpec => ({
  owner,
  lab: 'demo',
  labRoot: '/nowhere',
  environment: {
    driver: 'docker',
    hosts: Array.from({ length: hosts }, (_, i) => ({ name: `h${i}`, image: 'labforge/base' })),
  } as EnvironmentSpec['environment'],
});

function fleet(cpusA = 2, cpusB = 2, downAfterMs = 60_000) {
  const a = new FakeEngine(cpusA);
  const b = new FakeEngine(cpusB);
  let now = 1_000_000;
  const f = new DockerFleet(
    [
      { name: 'a', driver: a },
      { name: 'b', driver: b },
    ],
    { downAfterMs, now: () => now },
  );
  return { f, a, b, tick: (ms: number) => (now += ms) };
}

describe('placement', () => {
  it('spreads environments over the engines and names the engine in the record', async () => {
    const { f, a, b } = fleet();
    const envs = [];
    for (let i = 0; i < 4; i++) envs.push(await f.create(spec(`s${i}`), () => {}));
    expect(envs.map((e) => e.meta.engine)).toEqual(['a', 'b', 'a', 'b']);
    expect([a.running, b.running]).toEqual([4, 4]);
  });

  it('weighs by CPUs: an engine with twice the CPUs takes twice the hosts', async () => {
    const { f } = fleet(4, 2);
    const placed = [];
    for (let i = 0; i < 6; i++) placed.push((await f.create(spec(`s${i}`), () => {})).meta.engine);
    expect(placed.filter((e) => e === 'a')).toHaveLength(4);
    expect(placed.filter((e) => e === 'b')).toHaveLength(2);
  });

  it('counts creations still under way, so a burst does not pile onto one engine', async () => {
    const { f, a, b } = fleet();
    let open!: () => void;
    a.gate = b.gate = new Promise<void>((r) => (open = r));
    const burst = [0, 1, 2, 3].map((i) => f.create(spec(`s${i}`), () => {}));
    await new Promise((r) => setTimeout(r, 10));
    open();
    const engines = (await Promise.all(burst)).map((e) => e.meta.engine).sort();
    expect(engines).toEqual(['a', 'a', 'b', 'b']);
  });

  it('puts nothing on an engine that does not answer, and says why when none does', async () => {
    const { f, b, a } = fleet();
    b.up = false;
    for (let i = 0; i < 3; i++) expect((await f.create(spec(`s${i}`), () => {})).meta.engine).toBe('a');
    a.up = false;
    await expect(f.create(spec('x'), () => {})).rejects.toThrow(/no Docker engine answers: a \(connect ECONNREFUSED.*\); b \(/);
  });

  it('names the engine when a creation fails there', async () => {
    const { f, a } = fleet();
    a.create = async () => {
      throw new EnvironmentError('image "nope" is not on this machine');
    };
    await expect(f.create(spec('s'), () => {})).rejects.toThrow('on Docker engine a: image "nope" is not on this machine');
  });
});

describe('an environment stays on its engine', () => {
  it('routes every call to the engine in the record; a record without one is on the first engine', async () => {
    const { f, a, b } = fleet();
    const one = await f.create(spec('one'), () => {});
    const two = await f.create(spec('two'), () => {});
    await f.exec(one, 'h0', ['true']);
    await f.exec(two, 'h0', ['true']);
    await f.exec({ ...two, meta: {} }, 'h0', ['true']);
    expect(a.execs).toEqual(['one', 'two']);
    expect(b.execs).toEqual(['two']);
    // A rejection, not a throw: callers that chain .catch() see it too.
    await expect(f.exec({ ...one, meta: { engine: 'gone' } }, 'h0', ['true'])).rejects.toThrow(/engine "gone", which is no longer configured/);
  });
});

describe('an engine that goes away', () => {
  it('keeps its sessions through a short silence, then reports their hosts gone with the engine and the time', async () => {
    const { f, b, tick } = fleet(2, 2, 60_000);
    await f.create(spec('on-a'), () => {});
    const onB = await f.create(spec('on-b'), () => {});
    b.up = false;
    await expect(f.hosts(onB)).rejects.toThrow(/ECONNREFUSED/); // an engine restart is not an outage
    tick(30_000);
    await expect(f.hosts(onB)).rejects.toThrow(/ECONNREFUSED/);
    tick(31_000);
    const states = await f.hosts(onB);
    expect(states.map((s) => s.state)).toEqual(['gone', 'gone']);
    expect(states[0].reason).toMatch(/^its Docker engine "b" has not answered since \d\d:\d\d UTC: connect ECONNREFUSED/);

    b.up = true; // back: its sessions are read again
    expect((await f.hosts(onB)).map((s) => s.state)).toEqual(['running', 'running']);
  });

  it('is ready while one engine answers; lists and removes owners on the engines that answer', async () => {
    const { f, a, b } = fleet();
    b.up = false;
    await expect(f.ping()).resolves.toBeUndefined();
    const removed: string[] = [];
    Object.assign(a, { destroyOwner: async (o: string) => void removed.push(`a:${o}`) });
    Object.assign(b, { destroyOwner: async (o: string) => void removed.push(`b:${o}`) });
    await f.destroyOwner('x');
    expect(removed).toEqual(['a:x']);
    a.up = false;
    await expect(f.ping()).rejects.toThrow(/no Docker engine answers/);
  });

  it('tells what every engine lacks only when none is ready', async () => {
    const { f, b, a } = fleet();
    Object.assign(b, { prerequisites: async () => [{ what: 'Docker engine not reachable at /var/run/b.sock', fix: 'start it' }] });
    expect(await f.prerequisites()).toEqual([]);
    Object.assign(a, { prerequisites: async () => [{ what: 'Docker engine not reachable at /var/run/a.sock', fix: 'start it' }] });
    expect((await f.prerequisites()).map((p) => p.what)).toEqual([
      'engine a: Docker engine not reachable at /var/run/a.sock',
      'engine b: Docker engine not reachable at /var/run/b.sock',
    ]);
  });
});

describe('engine metrics', () => {
  it("reads one plain Docker driver's engine as `default`, up with its load or down with the reason", async () => {
    const single = new FakeEngine(4);
    single.running = 3;
    expect(await engineStatuses(single)).toEqual([{ name: 'default', up: true, load: { cpus: 4, memoryBytes: 4 * 2 ** 30, labContainers: 3 }, creating: 0 }]);
    single.up = false;
    expect(await engineStatuses(single)).toMatchObject([{ name: 'default', up: false, reason: 'connect ECONNREFUSED /var/run/b.sock' }]);
    expect(await engineStatuses(new MemoryDriver())).toEqual([]); // not on Docker
  });
});

describe('LABFORGE_DOCKER_ENGINES', () => {
  it('reads name=url entries, space- or comma-separated, into connections', () => {
    const engines = parseEngines('a=unix:///var/run/docker.sock, b=tcp://10.0.0.5:2375 c=ssh://lab@10.0.0.6:2222');
    expect(engines.map((e) => e.name)).toEqual(['a', 'b', 'c']);
    expect(engineOptions(engines[0])).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(engineOptions(engines[1])).toEqual({ host: '10.0.0.5', port: 2375, protocol: 'http' });
    expect(engineOptions(engines[2])).toMatchObject({ host: '10.0.0.6', port: 2222, username: 'lab', protocol: 'ssh' });
    const tls = engineOptions(parseEngines('d=tcp://h:2376?tls=/etc/lf/d')[0], (f) => Buffer.from(f));
    expect(tls).toMatchObject({ protocol: 'https', port: 2376, ca: Buffer.from('/etc/lf/d/ca.pem'), key: Buffer.from('/etc/lf/d/key.pem') });
    expect(parseEngines('')).toEqual([]);
  });

  it.each([
    ['unix:///x.sock', 'is not name=url'],
    ['a b=unix:///x.sock', '"a" is not name=url'],
    ['a=unix:///x a=unix:///y', '"a" is listed twice'],
    ['a b=unix:///x.sock'.replace('a ', 'a!='), '"a!": a name is letters'],
    ['a=http://h:2375', 'http:// is not an engine address'],
    ['a=tcp://h', 'tcp:// needs a port'],
    ['a=tcp://h:2376?tls=certs', '?tls= needs an absolute folder'],
    ['a=ssh://h', 'ssh:// needs a user'],
    ['a=unix://', 'unix:// needs a socket path'],
  ])('refuses %s, saying what is wrong', (text, message) => {
    expect(() => parseEngines(text)).toThrow(`LABFORGE_DOCKER_ENGINES: `);
    expect(() => parseEngines(text)).toThrow(message);
  });
});
