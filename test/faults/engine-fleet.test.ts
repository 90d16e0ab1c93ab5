/**
 * Two Docker engines on one machine (issue #16): the machine's own and a second dockerd with its
 * own socket, data root and bridges (scripts/extra-engine.sh), behind one `docker` driver
 * (lib/environments/fleet.ts). Sessions spread over both; the image reaches the second engine by
 * a copy from the first; stopping the second engine fails its sessions with the reason (after the
 * grace period) while those on the first go on, and new sessions go to the first. Starts a dockerd,
 * so it runs with the faults, alone; without root or dockerd it says `skipped: <why>`.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { log } from '../../lib/base/log';
import { createDrivers } from '../../lib/environments';
import { reconcile } from '../../lib/environments/reconciler';
import type { Environment, EnvironmentDriver } from '../../lib/environments/driver';
import { SessionService } from '../../lib/sessions/service';
import { dockerTrack, sessionHarness, shellChallenge, typeInTab, type SessionHarness } from '../support/sessions';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/extra-engine.sh');
const NAME = `t${process.pid % 100000}`;
const TRACK = dockerTrack('fleet-lab', 'Two engines', ['workstation', 'server']);
const CHALLENGE = shellChallenge('only', 'The only challenge', 'Nothing to do.');
const DOWN_MS = 3_000;
const learner = (i: number) => `${i}`.padStart(32, 'f');

let refusal: string | undefined;
let h: SessionHarness;
let svc: SessionService;
let drivers: Record<string, EnvironmentDriver>;
let engineB: Dockerode;
const started: Array<{ id: string; learner: string }> = [];

function extraEngine(...args: string[]) {
  return spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000 });
}
async function envOf(id: string): Promise<Environment> {
  return JSON.parse((await h.db.session.findUniqueOrThrow({ where: { id } })).environment!) as Environment;
}
async function start(i: number): Promise<string> {
  const id = (await svc.start('fleet-lab', learner(i))).id;
  started.push({ id, learner: learner(i) });
  await h.active(svc, id, learner(i));
  return id;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) refusal = 'a second dockerd needs root';
  else if (spawnSync('sh', ['-c', 'command -v dockerd']).status !== 0) refusal = 'no dockerd on this machine';
  if (refusal) return;
  const up = extraEngine('start', NAME, '10.215.0.0/16');
  if (up.status !== 0) throw new Error(`scripts/extra-engine.sh start: ${up.stderr}`);
  const url = up.stdout.trim();
  engineB = new Dockerode({ socketPath: new URL(url).pathname });
  h = await sessionHarness('fleet', { files: { 'fleet-lab/track.yml': TRACK, 'fleet-lab/01-only/assignment.md': CHALLENGE } });
  drivers = createDrivers({
    dataDir: path.join(ROOT, 'data'),
    instance: `fleet-${process.pid}`,
    dockerEngines: [
      { name: 'a', url: `unix://${process.env.DOCKER_HOST?.startsWith('unix://') ? new URL(process.env.DOCKER_HOST).pathname : '/var/run/docker.sock'}` },
      { name: 'b', url },
    ],
    engineDownMs: DOWN_MS,
  });
  svc = new SessionService({ db: h.db, catalog: h.catalog, drivers, log });
}, 180_000);

afterAll(async () => {
  if (refusal) return;
  for (const s of started) await svc.stop(s.id, s.learner).catch(() => undefined);
  // Engine b again, so that it removes what it still holds (its bridges too), then it goes.
  extraEngine('start', NAME, '10.215.0.0/16');
  extraEngine('stop', NAME, '--purge');
  await h?.close();
}, 180_000);

describe('a fleet of two Docker engines', () => {
  it('spreads sessions over both, copies the image to the new engine, and fails only the sessions of an engine that stops', async (ctx) => {
    if (refusal) {
      console.log(`skipped: ${refusal}`);
      ctx.skip();
    }
    const t0 = Date.now();
    const ids = await Promise.all([0, 1, 2, 3].map(start));
    const spreadMs = Date.now() - t0;
    const engines = await Promise.all(ids.map(async (id) => (await envOf(id)).meta.engine));
    expect(engines.filter((e) => e === 'a')).toHaveLength(2);
    expect(engines.filter((e) => e === 'b')).toHaveLength(2);
    // The second engine had no image: it was copied there, and its hosts really run on it.
    const onB = ids.filter((_, i) => engines[i] === 'b');
    const onA = ids.filter((_, i) => engines[i] === 'a');
    const bEnv = await envOf(onB[0]);
    expect((await engineB.getContainer(bEnv.hosts[0].ref).inspect()).State.Running).toBe(true);
    const ping = await drivers.docker.exec(bEnv, 'workstation', ['ping', '-c', '1', '-W', '3', 'server']);
    expect(ping.exitCode, ping.stderr).toBe(0);
    expect(await typeInTab(svc, onB[0], learner(ids.indexOf(onB[0])), 'shell', 'echo on-engine-$((6*7))', 'on-engine-42')).toContain('on-engine-42');

    // Engine b stops: at first the watch pass waits (an engine restart is not an outage) ...
    const stop = extraEngine('stop', NAME);
    expect(stop.status, stop.stderr).toBe(0);
    const t1 = Date.now();
    await svc.watchHosts();
    for (const id of onB) expect((await svc.get(id, learner(ids.indexOf(id)))).status).toBe('active');
    // ... past the grace period its sessions fail, saying why; those on engine a go on.
    await new Promise((r) => setTimeout(r, DOWN_MS + 500));
    await svc.watchHosts();
    const failMs = Date.now() - t1;
    for (const id of onB) {
      const view = await svc.get(id, learner(ids.indexOf(id)));
      expect(view.status).toBe('failed');
      expect(view.error).toMatch(
        /^the environment broke \(host \w+ is gone \(its Docker engine "b" has not answered since \d\d:\d\d UTC: .+\)\): start the lab again$/,
      );
    }
    for (const id of onA) expect((await svc.get(id, learner(ids.indexOf(id)))).status).toBe('active');

    // New sessions go to the engine that answers.
    const t2 = Date.now();
    const next = await start(4);
    const nextMs = Date.now() - t2;
    expect((await envOf(next)).meta.engine).toBe('a');

    for (const s of started.filter((x) => !onB.includes(x.id))) await svc.stop(s.id, s.learner);
    const mine = { filters: { label: [`labforge.instance=fleet-${process.pid}`] } };
    expect((await new Dockerode().listContainers({ all: true, ...mine })).map((c) => c.Names[0])).toEqual([]);

    // Engine b back: the failed sessions' hosts it still held are found and removed by the reconciler.
    const again = extraEngine('start', NAME, '10.215.0.0/16');
    expect(again.status, again.stderr).toBe(0);
    expect((await engineB.listContainers({ all: true, ...mine })).length).toBe(4);
    const { removed } = await reconcile(Object.values(drivers), () => svc.liveOwners(), log);
    expect(removed.sort()).toEqual([...onB].sort());
    expect(await engineB.listContainers({ all: true, ...mine })).toEqual([]);
    expect(await engineB.listNetworks(mine)).toEqual([]);
    console.log(
      `[fleet] 4 sessions (2 hosts each) over engines a and b: active after ${spreadMs} ms (b's image copied from a); ` +
        `b stopped → its sessions failed at the first watch pass past ${DOWN_MS} ms (${failMs} ms); next session on a in ${nextMs} ms`,
    );
  }, 600_000);
});
