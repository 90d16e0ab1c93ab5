/**
 * The Docker engine restarted under a live session (issue #10 item 5: "sessions recover or fail
 * with a reason, nothing leaks"), and down while a session is being prepared (its job is tried
 * again until the engine answers). Stops and restarts the machine's dockerd, so it runs alone,
 * after every other phase (vitest.faults.config.ts, scripts/test.sh), and only where
 * scripts/setup-machine.sh started that dockerd and nothing else is running on it; otherwise it
 * says `skipped: <why>`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Environment } from '../../lib/environments/driver';
import { RETRIED_STEP, RETRY_STEP } from '../../lib/sessions/provisioning';
import type { SessionService } from '../../lib/sessions/service';
import { dockerTrack, sessionHarness, shellChallenge, typeInTab, type SessionHarness } from '../support/sessions';
import { waitFor } from '../support/wait';

const ROOT = path.resolve(__dirname, '../..');
const TRACK = dockerTrack('engine-lab', 'Engine restart', ['workstation', 'server']);
const CHALLENGE = shellChallenge('only', 'The only challenge', 'Nothing to do.');
/** The two rules of docker/boundary.ts, as iptables lists them. */
const RULES: [string, string[]][] = [
  ['INPUT', ['-i', 'lfb+', '-m', 'conntrack', '!', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'DROP']],
  ['DOCKER-USER', ['-i', 'lfbr+', '!', '-o', 'lfb+', '-j', 'DROP']],
];
const ruleIn = (chain: string, rule: string[]) => spawnSync('iptables', ['-w', '-C', chain, ...rule]).status === 0;
const firewall = () => RULES.map(([chain, rule]) => ruleIn(chain, rule));

const docker = new Dockerode();
const learner = 'r'.repeat(32);
let h: SessionHarness;
let svc: SessionService;
/** Why this machine cannot take the test, or undefined. */
let refusal: string | undefined;

function sh(args: string[]) {
  return spawnSync('bash', [path.join(ROOT, 'scripts/setup-machine.sh'), ...args], { encoding: 'utf8', timeout: 180_000 });
}
async function envOf(id: string): Promise<Environment> {
  return JSON.parse((await h.db.session.findUniqueOrThrow({ where: { id } })).environment!) as Environment;
}
async function untilEngine(ms = 60_000) {
  for (const deadline = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 250))) {
    if (
      await docker.ping().then(
        () => true,
        () => false,
      )
    )
      return;
    if (Date.now() > deadline) throw new Error('the engine did not come back');
  }
}

beforeAll(async () => {
  const check = sh(['--restart-dockerd', '--check']);
  if (check.status === 3) refusal = check.stderr.trim();
  else if (check.status !== 0) throw new Error(`setup-machine --restart-dockerd --check: ${check.stderr}`);
  const others = await docker.listContainers();
  // Restarting the engine stops every container on it: never someone else's.
  if (!refusal && others.length)
    refusal = `${others.length} running container(s) this test did not create (${others
      .map((c) => c.Names[0])
      .slice(0, 3)
      .join(', ')}) would be stopped by an engine restart`;
  if (refusal) return;
  h = await sessionHarness('engine', { files: { 'engine-lab/track.yml': TRACK, 'engine-lab/01-only/assignment.md': CHALLENGE } });
  svc = h.service();
});
afterAll(async () => {
  // A test that failed with the engine stopped must not leave the machine without one.
  if (
    !refusal &&
    !(await docker.ping().then(
      () => true,
      () => false,
    ))
  )
    sh(['--start-dockerd']);
  await h?.close();
});

/** Stops the session, then nothing labelled with it may be left: containers or networks. */
async function stopLeavingNothing(id: string): Promise<void> {
  await svc.stop(id, learner);
  const left = (kind: string[]) => execFileSync('docker', [...kind, '-q', '--filter', `label=labforge.session=${id}`], { encoding: 'utf8' }).trim();
  expect(left(['ps', '-a'])).toBe('');
  expect(left(['network', 'ls'])).toBe('');
}

/** Why the test cannot stop the engine now (someone else's running containers), or undefined. */
async function othersRunning(mine?: string): Promise<string | undefined> {
  const others = (await docker.listContainers()).filter((c) => c.Labels?.['labforge.session'] !== mine);
  return others.length ? `${others.length} running container(s) this test did not create appeared before the engine stopped` : undefined;
}

describe('the Docker engine restarted under a live session', () => {
  it('hosts are reported stopped by the restart, come back with their files, network, terminal and firewall, and nothing leaks', async (ctx) => {
    if (refusal) {
      console.log(`skipped: ${refusal}`);
      ctx.skip();
    }
    const id = (await svc.start('engine-lab', learner)).id;
    await h.active(svc, id, learner);
    let env = await envOf(id);
    for (const host of ['workstation', 'server']) await h.driver.writeFile(env, host, '/root/keep', `${host} kept\n`);
    expect(firewall()).toEqual([true, true]);
    // Asked again at the last moment: someone may have started a container meanwhile.
    const others = await othersRunning(id);
    if (others) {
      console.log(`skipped: ${others}`);
      await svc.stop(id, learner);
      ctx.skip();
    }

    const t0 = Date.now();
    const restart = sh(['--restart-dockerd']);
    expect(restart.status, restart.stderr).toBe(0);
    await untilEngine();
    const engineMs = Date.now() - t0;
    const survived = firewall();

    const t1 = Date.now();
    await svc.watchHosts();
    const watchMs = Date.now() - t1;
    const view = await svc.get(id, learner);
    expect(view.status).toBe('active');
    for (const host of view.hosts) {
      expect(host.state).toBe('stopped');
      expect(host.notices.at(-1)!.message).toMatch(
        new RegExp(`^${host.name} stopped at \\d\\d:\\d\\d UTC: the container engine restarted\\. Your files are kept`),
      );
    }
    const states = await h.driver.hosts(env);
    const exits = await Promise.all(env.hosts.map(async (x) => (await docker.getContainer(x.ref).inspect()).State.ExitCode));

    // Whatever the restart did to our rules, a restart of a host must not run without them:
    // take them out, as an engine that rebuilt its chains would have, and see them come back.
    for (const [chain, rule] of RULES) spawnSync('iptables', ['-w', '-D', chain, ...rule]);
    expect(firewall()).toEqual([false, false]);
    const t2 = Date.now();
    await svc.restartHost(id, learner, 'workstation');
    const restartMs = Date.now() - t2;
    expect(firewall()).toEqual([true, true]);
    await svc.restartHost(id, learner, 'server');
    const after = await svc.get(id, learner);
    expect(after.hosts.map((x) => [x.name, x.state, x.notices.at(-1)!.kind])).toEqual([
      ['workstation', 'running', 'restarted'],
      ['server', 'running', 'restarted'],
    ]);

    env = await envOf(id);
    for (const host of ['workstation', 'server']) expect((await h.driver.readFile(env, host, '/root/keep')).toString()).toBe(`${host} kept\n`);
    // The session network came back with the engine: names resolve and packets pass.
    const ping = await h.driver.exec(env, 'workstation', ['ping', '-c', '1', '-W', '3', 'server']);
    expect(ping.exitCode, ping.stderr).toBe(0);
    expect(await typeInTab(svc, id, learner, 'shell', 'cat /root/keep', 'workstation kept')).toContain('workstation kept');

    await stopLeavingNothing(id);
    console.log(
      `[engine] dockerd restart to engine answering ${engineMs} ms; exit codes after it ${exits.join(', ')}; our firewall rules after it: ${survived.map((x, i) => `${RULES[i][0]} ${x ? 'kept' : 'gone'}`).join(', ')}; ` +
        `watch pass ${watchMs} ms (${states.map((s) => `${s.host}: ${s.reason}`).join('; ')}); restart with firewall re-install ${restartMs} ms`,
    );
  }, 600_000);

  it('a session started while the engine is down waits, saying why, and is prepared once the engine answers', async (ctx) => {
    const why = refusal ?? (await othersRunning());
    if (why) {
      console.log(`skipped: ${why}`);
      ctx.skip();
    }
    const stopped = sh(['--stop-dockerd']);
    expect(stopped.status, stopped.stderr).toBe(0);
    const id = (await svc.start('engine-lab', learner)).id;
    const waiting = await waitFor(
      'the session to wait for another attempt',
      async () => {
        const v = await svc.get(id, learner);
        return v.progress.at(-1)?.step === RETRY_STEP && v;
      },
      20_000,
      50,
    );
    expect(waiting.status).toBe('provisioning');
    expect(waiting.progress.at(-1)!.detail).toMatch(/^the engine did not answer \(.+\); attempt \d of 6$/);

    const t0 = Date.now();
    const started = sh(['--start-dockerd']);
    expect(started.status, started.stderr).toBe(0);
    const engineMs = Date.now() - t0;
    await h.active(svc, id, learner);
    const activeMs = Date.now() - t0;
    const view = await svc.get(id, learner);
    expect(view.progress[0]).toMatchObject({ step: RETRIED_STEP, detail: waiting.progress.at(-1)!.detail });
    expect(await typeInTab(svc, id, learner, 'shell', 'echo back-$((6*7))', 'back-42')).toContain('back-42');

    await stopLeavingNothing(id);
    console.log(
      `[engine] a session started with the engine stopped: "${waiting.progress.at(-1)!.detail}"; engine answering ${engineMs} ms after its start, session active ${activeMs} ms after`,
    );
  }, 300_000);
});
