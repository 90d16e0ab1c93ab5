/**
 * A learner host that stops under a live session (issue #10 item 5): the learner is told what
 * happened and can restart it; a host that is gone still fails the session with the reason.
 * Real Docker, real SQLite, the real route handlers; the watch pass is called directly (server.ts
 * runs it every LABFORGE_WATCH_SECONDS).
 */
import crypto from 'node:crypto';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/base/config';
import type { Environment } from '../../lib/environments/driver';
import { log } from '../../lib/base/log';
import { setRuntime, type Runtime } from '../../lib/runtime';
import { TokenStore } from '../../lib/auth/tokens';
import { PEER_HEADER, resetRateLimits } from '../../lib/http/limits';
import type { SessionService } from '../../lib/sessions/service';
import * as checkRoute from '../../app/api/v1/sessions/[id]/check/route';
import * as tokenRoute from '../../app/api/v1/sessions/[id]/terminals/[tab]/token/route';
import * as restartRoute from '../../app/api/v1/sessions/[id]/hosts/[host]/restart/route';
import { dockerTrack, sessionHarness, shellChallenge, typeInTab, type SessionHarness } from '../support/sessions';

const TRACK = dockerTrack('hosts-lab', 'Hosts that stop', ['workstation', 'server'], '64Mi');
const CHALLENGE = shellChallenge('only', 'The only challenge', 'Create /root/done.');

let h: SessionHarness;
let svc: SessionService;
const newLearner = () => crypto.randomBytes(24).toString('base64url');

/** A route handler called the way Next calls it. */
function post<P>(handler: (req: Request, ctx: { params: Promise<P> }) => Promise<Response>, params: P, learner: string) {
  const req = new Request('http://localhost/api/v1/x', {
    method: 'POST',
    headers: { 'content-type': 'application/json', [PEER_HEADER]: '192.0.2.7', cookie: `labforge_learner=${learner}` },
    body: '{}',
  });
  return handler(req, { params: Promise.resolve(params) });
}

async function envOf(id: string): Promise<Environment> {
  return JSON.parse((await h.db.session.findUniqueOrThrow({ where: { id } })).environment!) as Environment;
}
async function container(id: string, host: string): Promise<Dockerode.Container> {
  return h.driver.docker.getContainer((await envOf(id)).hosts.find((x) => x.name === host)!.ref);
}
async function startActive(learner: string): Promise<string> {
  const id = (await svc.start('hosts-lab', learner)).id;
  await h.active(svc, id, learner);
  return id;
}
async function untilStopped(c: Dockerode.Container, ms = 30_000) {
  for (const deadline = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 100))) {
    const info = await c.inspect();
    if (!info.State.Running) return info;
    if (Date.now() > deadline) throw new Error('the container kept running');
  }
}
/** Runs argv in the container as the engine's root, outside the platform's sandbox (test set-up only). */
async function engineExec(c: Dockerode.Container, argv: string[]): Promise<void> {
  const exec = await c.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  await new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
    stream.resume();
  });
}

beforeAll(async () => {
  h = await sessionHarness('hosts', {
    files: {
      'hosts-lab/track.yml': TRACK,
      'hosts-lab/01-only/assignment.md': CHALLENGE,
      'hosts-lab/01-only/check-workstation': '#!/bin/bash\ntest -f /root/done || { echo "FAIL: /root/done does not exist yet"; exit 1; }\n',
    },
  });
  svc = h.service();
  const config = loadConfig({ LABFORGE_DATA_DIR: h.dir } as unknown as NodeJS.ProcessEnv);
  setRuntime({ config, db: h.db, catalog: h.catalog, drivers: { docker: h.driver }, sessions: svc, tokens: new TokenStore(), log } as unknown as Runtime);
  resetRateLimits();
});
afterAll(async () => {
  setRuntime(undefined);
  resetRateLimits();
  await h?.close();
});

describe('a learner host killed under a live session', () => {
  it('keeps the session, tells the learner why, refuses a Check with a clear 409, and restarts the host with its files', async () => {
    const learner = newLearner();
    const id = await startActive(learner);
    await h.driver.writeFile(await envOf(id), 'workstation', '/root/keep', 'kept\n');
    const ws = await container(id, 'workstation');

    const killedAt = Date.now();
    await ws.kill();
    const t0 = Date.now();
    await svc.watchHosts();
    const watchMs = Date.now() - t0;
    const view = await svc.get(id, learner);
    expect(view.status).toBe('active');
    const record = view.hosts.find((x) => x.name === 'workstation')!;
    expect(record.state).toBe('stopped');
    expect(record.notices.map((n) => n.kind)).toEqual(['stopped']);
    expect(record.notices[0].message).toMatch(
      /^workstation stopped at \d\d:\d\d UTC: it was killed \(SIGKILL\)\. Your files are kept; programs that were running ended\. Press Restart workstation\.$/,
    );
    expect(view.hosts.find((x) => x.name === 'server')).toMatchObject({ state: 'running', notices: [] });

    // Actions that need the host say so plainly, instead of the engine's error.
    const check = await post(checkRoute.POST, { id }, learner);
    expect(check.status).toBe(409);
    expect(await check.json()).toMatchObject({ error: 'workstation is stopped: restart it first', code: 'conflict' });
    const token = await post(tokenRoute.POST, { id, tab: 'shell' }, learner);
    expect(token.status).toBe(409);
    expect((await token.json()).error).toBe('workstation is stopped: restart it first');

    // Restart: owner only, known hosts only.
    expect((await post(restartRoute.POST, { id, host: 'workstation' }, newLearner())).status).toBe(404);
    const unknown = await post(restartRoute.POST, { id, host: 'nope' }, learner);
    expect([unknown.status, (await unknown.json()).error]).toEqual([404, 'no such host']);
    expect((await post(restartRoute.POST, { id, host: '../x' }, learner)).status).toBe(404);

    const t1 = Date.now();
    const res = await post(restartRoute.POST, { id, host: 'workstation' }, learner);
    const restartMs = Date.now() - t1;
    expect(res.status).toBe(200);
    const after = (await res.json()) as Awaited<ReturnType<SessionService['get']>>;
    const again = after.hosts.find((x) => x.name === 'workstation')!;
    expect(again.state).toBe('running');
    expect(again.notices.map((n) => n.kind)).toEqual(['stopped', 'restarted']);
    expect(again.notices[1].message).toBe('workstation restarted: files kept, programs that were running ended.');

    // Files kept, exec works, the Check runs again (and fails on its own terms).
    const env = await envOf(id);
    expect((await h.driver.readFile(env, 'workstation', '/root/keep')).toString()).toBe('kept\n');
    expect((await h.driver.exec(env, 'workstation', ['sh', '-c', 'echo alive'])).stdout).toBe('alive\n');
    expect(await svc.check(id, learner)).toEqual({ passed: false, message: '/root/done does not exist yet' });

    // The terminal tab works again: a token, then a shell in the restarted host.
    expect((await post(tokenRoute.POST, { id, tab: 'shell' }, learner)).status).toBe(200);
    expect(await typeInTab(svc, id, learner, 'shell', 'cat /root/keep', 'kept')).toContain('kept');

    // Restarting a running host changes nothing.
    const noop = await post(restartRoute.POST, { id, host: 'workstation' }, learner);
    expect(noop.status).toBe(200);
    expect(((await noop.json()) as typeof after).hosts.find((x) => x.name === 'workstation')!.notices).toHaveLength(2);
    const events = await h.db.event.findMany({ where: { sessionId: id, type: 'host' } });
    expect(events.map((e) => JSON.parse(e.data).kind)).toEqual(['stopped', 'restarted']);
    console.log(`[hosts] watch pass after the kill ${watchMs} ms; restart (route) ${restartMs} ms; kill to running again ${Date.now() - killedAt} ms`);
    await svc.stop(id, learner);
  }, 180_000);

  it('notices a host started again from outside the lab page', async () => {
    const learner = newLearner();
    const id = await startActive(learner);
    const server = await container(id, 'server');
    await server.stop({ t: 0 });
    await svc.watchHosts();
    const stopped = (await svc.get(id, learner)).hosts.find((x) => x.name === 'server')!;
    expect(stopped.state).toBe('stopped');
    expect(stopped.notices[0].message).toMatch(/^server stopped at \d\d:\d\d UTC: it was (killed \(SIGKILL\)|told to stop \(SIGTERM\))\./);
    await server.start();
    await svc.watchHosts();
    const running = (await svc.get(id, learner)).hosts.find((x) => x.name === 'server')!;
    expect(running.state).toBe('running');
    expect(running.notices.map((n) => n.kind)).toEqual(['stopped', 'restarted']);
    expect(running.notices[1].message).toMatch(/^server is running again since \d\d:\d\d UTC: files kept/);
    await svc.stop(id, learner);
  }, 120_000);
});

describe('a learner host removed', () => {
  it('still fails the session with the reason, and leaves nothing of it behind', async () => {
    const learner = newLearner();
    const id = await startActive(learner);
    await (await container(id, 'server')).remove({ force: true });
    await svc.watchHosts();
    const view = await svc.get(id, learner);
    expect(view.status).toBe('failed');
    expect(view.error).toBe('the environment broke (host server is gone (its container was removed)): start the lab again');
    expect((await h.driver.list()).map((e) => e.owner)).not.toContain(id);
    const restart = await post(restartRoute.POST, { id, host: 'server' }, learner);
    expect([restart.status, (await restart.json()).error]).toEqual([409, 'this session is failed']);
  }, 120_000);
});

describe('a learner host that ran out of memory', () => {
  it('says so, with the limit, when the kernel ended its main process', async () => {
    const learner = newLearner();
    const id = await startActive(learner);
    const ws = await container(id, 'workstation');
    // The OOM killer picks the biggest process; two hogs splitting the memory and the host's own
    // `sleep` marked first in line (any root in the host may raise a score) make it end the
    // container's main process, which is what stops a host. A hog killed alone leaves it running.
    void engineExec(ws, ['sh', '-c', 'echo 1000 > /proc/$(pgrep -x sleep)/oom_score_adj; tail /dev/zero & tail /dev/zero & wait']);
    const info = await untilStopped(ws);
    expect(info.State.OOMKilled).toBe(true); // what Docker itself reports, the ground truth here
    await svc.watchHosts();
    const view = await svc.get(id, learner);
    expect(view.status).toBe('active');
    const record = view.hosts.find((x) => x.name === 'workstation')!;
    expect(record.state).toBe('stopped');
    expect(record.notices[0].message).toMatch(/^workstation stopped at \d\d:\d\d UTC: it ran out of memory \(limit 64 MiB\)\. Your files are kept/);
    const t0 = Date.now();
    await svc.restartHost(id, learner, 'workstation');
    console.log(`[hosts] restart after the OOM stop (SessionService.restartHost) ${Date.now() - t0} ms`);
    expect((await svc.get(id, learner)).hosts.find((x) => x.name === 'workstation')!.state).toBe('running');
    expect((await h.driver.exec(await envOf(id), 'workstation', ['true'])).exitCode).toBe(0);
    await svc.stop(id, learner);
  }, 120_000);
});
