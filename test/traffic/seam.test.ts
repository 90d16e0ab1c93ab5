/**
 * The Traffic tab over the driver seam alone: a fake driver's capture (EnvironmentDriver.capture)
 * feeds real tcpdump lines, and lib/traffic turns them into groups, senders and receivers named
 * by the capture's addresses, seeded from its memberships. No engine, no Docker import: what
 * lib/traffic needs is on the seam.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CaptureSink, Environment, EnvironmentDriver, PacketCapture } from '../../lib/environments/driver';
import { dockerHostSchema } from '../../lib/labs/schema';
import { NO_CAPTURE, TrafficCaptures } from '../../lib/traffic/capture';
import type { TrafficView } from '../../lib/traffic/types';
import { VERBOSE } from './fixtures/samples';

const NOW = 1795677985_000;
const ADDRESSES: Record<string, string> = { '172.28.0.2': 'obi-wan', '172.28.0.3': 'luke', '172.28.0.5': 'red-leader', '172.28.0.9': 'early' };
// The capture up to the first leave: luke joined 225.0.0.11 and .12, red-leader 225.0.0.21; obi-wan sent.
const BANNER = VERBOSE.split('\n')[0];
const BATTLE = VERBOSE.split('\n').slice(1, 13).join('\n');
/** What each host's kernel lists, consistent with BATTLE; `early` joined 225.0.0.50 before any capture. */
const JOINED: Record<string, string[]> = { 'obi-wan': [], luke: ['225.0.0.11', '225.0.0.12'], 'red-leader': ['225.0.0.21'], early: ['225.0.0.50'] };

/** /proc/net/igmp as Linux writes it: groups in little-endian hex under their device. */
function procIgmp(groups: string[]): string {
  const hex = (g: string) =>
    g
      .split('.')
      .map((n) => Number(n).toString(16).padStart(2, '0').toUpperCase())
      .reverse()
      .join('');
  return [
    'Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter',
    `551\teth0      :     ${groups.length + 1}      V3`,
    ...[...groups, '224.0.0.1'].map((g) => `\t\t\t\t${hex(g)}     1 0:00000000\t\t0`),
    '',
  ].join('\n');
}

class FakeCapture implements PacketCapture {
  readonly ended: Promise<void>;
  stops = 0;
  private end!: () => void;
  constructor(readonly sink: CaptureSink) {
    this.ended = new Promise((r) => (this.end = r));
  }
  feed(text: string): void {
    for (const line of text.split('\n')) this.sink.onLine(line);
  }
  /** The capture's output ends by itself (the environment went). */
  finish(): void {
    this.end();
  }
  async addresses() {
    return new Map(Object.entries(ADDRESSES));
  }
  async memberships(host: string) {
    if (!JOINED[host]) throw new Error(`no host ${host}`);
    return procIgmp(JOINED[host]);
  }
  async stop() {
    this.stops++;
    this.end();
  }
}

const notUsed = (): never => {
  throw new Error('not used by the Traffic tab');
};

/** A driver with every method the Traffic tab does not need failing, and `capture` as given. */
function fakeDriver(capture?: EnvironmentDriver['capture']): EnvironmentDriver {
  return {
    name: 'fake',
    prerequisites: notUsed,
    create: notUsed,
    exec: notUsed,
    readFile: notUsed,
    writeFile: notUsed,
    openTerminal: notUsed,
    closeTerminal: notUsed,
    inject: notUsed,
    health: notUsed,
    destroy: notUsed,
    list: notUsed,
    destroyOwner: notUsed,
    ...(capture ? { capture } : {}),
  };
}

const envOf = (owner: string): Environment => ({
  driver: 'fake',
  owner,
  lab: 'traffic',
  // `early` has no address in the record: the capture's addresses name it.
  hosts: Object.entries(ADDRESSES).map(([ip, name]) => ({
    name,
    ref: `ref-${name}`,
    address: name === 'early' ? undefined : ip,
    spec: dockerHostSchema.parse({ name, image: 'x' }),
  })),
  meta: {},
});

/** A driver whose captures the test can feed, one per capture() call. */
function capturing(replay = BATTLE) {
  const started: FakeCapture[] = [];
  const driver = fakeDriver(async (_env, sink) => {
    const c = new FakeCapture(sink);
    started.push(c);
    sink.onDiagnostic(BANNER);
    c.feed(replay); // what the driver kept from before this capture was asked for
    return c;
  });
  return { driver, started };
}

let clock = NOW;
let open: TrafficCaptures[] = [];
function captures() {
  const c = new TrafficCaptures({ now: () => clock, startWaitMs: 2_000 });
  open.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(open.map((c) => c.close()));
  open = [];
  clock = NOW;
});

const group = (v: TrafficView, g: string) => v.groups.find((x) => x.group === g);

describe('the Traffic tab over EnvironmentDriver.capture', () => {
  it('turns the lines of a fake capture into groups, named senders and receivers', async () => {
    const { driver, started } = capturing();
    const traffic = captures();
    const env = envOf('sess-1');
    const first = await traffic.view({ driver, env });
    expect(first).toMatchObject({ capturing: true, since: NOW, bucketMs: 5_000, windowMs: 1_800_000 });
    expect(first.problem).toBeUndefined();
    expect(started).toHaveLength(1);

    // Receivers that joined before the capture come from the memberships read once at start.
    await vi.waitFor(async () => expect(group(await traffic.peek({ driver, env }), '225.0.0.50')?.receivers).toHaveLength(1));
    const view = await traffic.peek({ driver, env });
    expect(view.groups.map((g) => g.group)).toEqual(['224.0.0.251', '225.0.0.11', '225.0.0.12', '225.0.0.21', '225.0.0.42', '225.0.0.50']);
    expect(group(view, '225.0.0.11')).toMatchObject({
      senders: [{ host: 'obi-wan', ip: '172.28.0.2', packets: 1, bytes: 55, ports: [6666], lastSeen: 1795677975161 }],
      receivers: [{ host: 'luke', ip: '172.28.0.3', since: 1795677973987 }],
      packets: 1,
    });
    expect(group(view, '225.0.0.12')?.receivers.map((r) => r.host)).toEqual(['luke']);
    expect(group(view, '225.0.0.21')).toMatchObject({ senders: [], receivers: [{ host: 'red-leader', since: 1795677973755 }] });
    expect(group(view, '225.0.0.42')?.senders).toEqual([expect.objectContaining({ host: 'obi-wan', packets: 2, ports: [7777] })]);
    expect(group(view, '225.0.0.50')).toMatchObject({ senders: [], receivers: [{ host: 'early', ip: '172.28.0.9', since: NOW }] });
    expect(group(view, '225.0.0.11')?.series).toEqual([{ t: 1795677975000, counts: { 'obi-wan': 1 } }]);
  });

  it('follows live lines: a new sender and a leave', async () => {
    const { driver, started } = capturing();
    const traffic = captures();
    const env = envOf('sess-live');
    await traffic.view({ driver, env });
    await vi.waitFor(async () => expect(group(await traffic.peek({ driver, env }), '225.0.0.50')?.receivers).toHaveLength(1));
    clock = NOW + 5_000;
    started[0].feed(
      [
        '1795677986.000000 IP (tos 0x0, ttl 1, id 1, offset 0, flags [DF], proto UDP (17), length 40)',
        '    172.28.0.9.40000 > 225.0.0.50.1234: UDP, length 12',
        '1795677987.000000 IP (tos 0xc0, ttl 1, id 0, offset 0, flags [DF], proto IGMP (2), length 32, options (RA))',
        '    172.28.0.5 > 224.0.0.2: igmp leave 225.0.0.21',
      ].join('\n'),
    );
    const view = await traffic.peek({ driver, env });
    expect(group(view, '225.0.0.50')?.senders).toEqual([expect.objectContaining({ host: 'early', packets: 1, bytes: 40, ports: [1234] })]);
    expect(group(view, '225.0.0.21')).toBeUndefined(); // nobody sends to it and nobody is joined any more
    expect(started).toHaveLength(1);
  });

  it('says so when the capture ends, and starts again on the next request', async () => {
    const { driver, started } = capturing();
    const traffic = captures();
    const env = envOf('sess-end');
    await traffic.view({ driver, env });
    started[0].finish();
    await vi.waitFor(async () => expect((await traffic.peek({ driver, env })).capturing).toBe(false));
    expect((await traffic.peek({ driver, env })).problem).toBe('the capture stopped (the environment may have been removed)');
    expect((await traffic.view({ driver, env })).capturing).toBe(true);
    expect(started).toHaveLength(2);
  });

  it('shows why a capture could not start, and what its program complained about', async () => {
    const failing = fakeDriver(async () => {
      throw new Error('the session network lf-x is gone: the environment was removed');
    });
    const traffic = captures();
    const env = envOf('sess-fail');
    expect(await traffic.view({ driver: failing, env })).toMatchObject({
      capturing: false,
      problem: 'the session network lf-x is gone: the environment was removed',
    });

    const complaining = fakeDriver(async (_env, sink) => {
      sink.onDiagnostic("tcpdump: eth0: You don't have permission to capture on that device");
      return new FakeCapture(sink);
    });
    expect((await traffic.view({ driver: complaining, env: envOf('sess-perm') })).problem).toBe(
      "capture error: eth0: You don't have permission to capture on that device",
    );
  });

  it('tells a driver without the capability apart, and starts nothing for GET', async () => {
    const traffic = captures();
    const env = envOf('sess-none');
    for (const v of [await traffic.view({ driver: fakeDriver(), env }), await traffic.peek({ driver: fakeDriver(), env })]) {
      expect(v).toMatchObject({ groups: [], capturing: false, problem: NO_CAPTURE });
    }
    expect(NO_CAPTURE).toBe("this environment's driver cannot capture traffic");

    const { driver, started } = capturing();
    expect(await traffic.peek({ driver, env })).toMatchObject({ groups: [], capturing: false });
    expect(started).toHaveLength(0);
  });

  it('close() stops every running capture and waits for them', async () => {
    const { driver, started } = capturing();
    const traffic = captures();
    await traffic.view({ driver, env: envOf('sess-a') });
    await traffic.view({ driver, env: envOf('sess-b') });
    expect(started).toHaveLength(2);
    await traffic.close();
    expect(started.map((c) => c.stops)).toEqual([1, 1]);
    // Nothing is left to read: a later request starts afresh.
    expect((await traffic.peek({ driver, env: envOf('sess-a') })).capturing).toBe(false);
  });
});

describe('lib/traffic', () => {
  it('imports no backend: neither dockerode nor a driver folder', () => {
    const dir = path.resolve(__dirname, '../../lib/traffic');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      const imports = [...readFileSync(path.join(dir, f), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      expect(
        imports.filter((i) => /^(dockerode|@kubernetes\/)|environments\/(docker|kind|images)\//.test(i)),
        f,
      ).toEqual([]);
    }
  });
});
