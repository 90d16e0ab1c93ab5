/**
 * Two replicas of the real server on one PostgreSQL database and one Docker engine (issue #16):
 * a session started through one is used through the other, its terminal included (a token issued
 * by one replica opens the socket on the other, and both reach the same shell); and a replica SIGKILLed while it prepares a
 * session hands the job over: the other replica removes what was half made, prepares the session
 * again, and nothing is left behind once it ends. Needs a production build and a PostgreSQL server
 * (the test command starts both); without the server it says `skipped:` and why.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../lib/db/client';
import { decodeServerFrame, encodeHello, encodeInput } from '../../lib/terminals/common/protocol';
import { TAKEN_OVER_STEP } from '../../lib/sessions/provisioning';
import { serverProblem } from '../support/database';
import { freePort, startServerProcess, type ServerProcess } from '../support/server';
import { oneHostTrack, shellChallenge } from '../support/sessions';
import { waitFor } from '../support/wait';

const root = path.resolve(__dirname, '../..');
const docker = new Dockerode();
const pgServer = process.env.LABFORGE_REPLICAS_DATABASE_URL ?? '';
const problem = pgServer ? await serverProblem(pgServer) : 'no PostgreSQL URL (LABFORGE_TEST_DATABASE_URL)';
if (problem) console.log(`skipped: postgresql not running (scripts/postgres.sh starts one)\n  ${problem}`);

const QUICK = 'replica-quick';
const SLOW = 'replica-slow';
/** Pooled (LABFORGE_POOL) on both replicas: one pool of two for the platform. */
const POOLED = 'replica-pooled';
const check = '#!/bin/bash\ntest -f /root/done || { echo "FAIL: /root/done is missing"; exit 1; }\n';
const files: Record<string, string> = {
  [`${QUICK}/track.yml`]: oneHostTrack(QUICK, 'Replica quick'),
  [`${QUICK}/01-only/assignment.md`]: shellChallenge('only', 'Touch a file', 'Create /root/done.'),
  [`${QUICK}/01-only/check-workstation`]: check,
  // Track setup takes seconds: a wide window to kill the replica preparing it.
  [`${SLOW}/track.yml`]: oneHostTrack(SLOW, 'Replica slow'),
  [`${SLOW}/track_scripts/setup-workstation`]: '#!/bin/bash\nsleep 6\ntouch /root/prepared\n',
  [`${SLOW}/01-only/assignment.md`]: shellChallenge('only', 'Touch a file', 'Create /root/done.'),
  [`${SLOW}/01-only/check-workstation`]: check,
  [`${POOLED}/track.yml`]: oneHostTrack(POOLED, 'Replica pooled'),
  [`${POOLED}/track_scripts/setup-workstation`]: '#!/bin/bash\ntouch /root/prepared\n',
  [`${POOLED}/01-only/assignment.md`]: shellChallenge('only', 'Touch a file', 'Create /root/done.'),
  [`${POOLED}/01-only/check-workstation`]: check,
};

let dir: string;
let db: Db;
let databaseUrl: string;
const replicas: Array<{ name: string; port: number; base: string; process?: ServerProcess; dataDir: string }> = [];
const sessions: string[] = [];

const containersOf = async (session: string) =>
  (await docker.listContainers({ all: true, filters: { label: [`labforge.session=${session}`] } })).map((c) => c.Id);
/** Containers of this platform that belong to no live session and are no pool member. */
async function unaccounted(): Promise<string[]> {
  const instance = (await db.setting.findUniqueOrThrow({ where: { key: 'instance' } })).value;
  const live = await db.session.findMany({ where: { status: { in: ['provisioning', 'active'] } } });
  const owners = new Set([...live.map((s) => s.id), ...live.flatMap((s) => (s.environment ? [(JSON.parse(s.environment) as { owner: string }).owner] : []))]);
  for (const m of await db.poolMember.findMany()) owners.add(m.owner);
  const left = await docker.listContainers({ all: true, filters: { label: [`labforge.instance=${instance}`] } });
  return left.map((c) => c.Labels['labforge.session']).filter((o) => !owners.has(o));
}
const labelled = async (session: string) =>
  (await containersOf(session)).length + (await docker.listNetworks({ filters: { label: [`labforge.session=${session}`] } })).length;

async function start(r: (typeof replicas)[number]): Promise<void> {
  r.process = await startServerProcess(r.port, {
    DATABASE_URL: databaseUrl,
    LABFORGE_DATA_DIR: r.dataDir,
    LABFORGE_LABS_DIR: path.join(dir, 'labs'),
    LABFORGE_REPLICA_HEARTBEAT_SECONDS: '1',
    LABFORGE_REPLICA_DEAD_SECONDS: '3',
    LABFORGE_POOL: `${POOLED}=2`,
    LABFORGE_LOG_LEVEL: 'info',
  });
}

async function api(base: string, method: string, url: string, cookie?: string, body?: unknown) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { 'content-type': 'application/json', origin: base, ...(cookie ? { cookie } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { res, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

type View = { status: string; error?: string; progress?: { step: string }[]; challenges: { status: string }[] };

const logs = () => replicas.map((r) => `-- ${r.name}:\n${(r.process?.logs() ?? '').split('\n').slice(-40).join('\n')}`).join('\n');

async function untilActive(base: string, id: string, cookie: string): Promise<View> {
  const view = await waitFor(
    `session ${id} to leave provisioning`,
    async () => {
      const v = (await api(base, 'GET', `/api/v1/sessions/${id}`, cookie)).body as unknown as View;
      return v.status !== 'provisioning' && v;
    },
    120_000,
    300,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${logs()}`);
  });
  expect(view.status, `${view.error}\n${logs()}`).toBe('active');
  return view;
}

/** Opens the terminal with a token from `issuer` on the socket of `server`, runs `command`, resolves with what came back. */
async function runInTerminal(issuer: string, server: string, id: string, cookie: string, command: string, want: RegExp): Promise<string> {
  const token = (await api(issuer, 'POST', `/api/v1/sessions/${id}/terminals/shell/token`, cookie)).body.token as string;
  expect(token).toBeTruthy();
  const ws = new WebSocket(`${server.replace('http', 'ws')}/ws/terminal?token=${encodeURIComponent(token)}`, { origin: server });
  let out = '';
  let ready = false;
  ws.on('message', (data: Buffer) => {
    const frame = decodeServerFrame(data);
    if (!frame.ok) return;
    if (frame.msg.type === 'output') out += Buffer.from(frame.msg.data).toString('utf8');
    if (frame.msg.type === 'status' && frame.msg.status.type === 'ready') ready = true;
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(encodeHello({ offset: 0, cols: 100, rows: 30 }));
  await waitFor('the terminal to be ready', () => ready, 20_000, 50);
  ws.send(encodeInput(`${command}\r`));
  await waitFor(`"${want}" in the terminal`, () => want.test(out), 20_000, 100).finally(() => ws.close());
  return out;
}

describe.skipIf(!!problem)('two replicas, one PostgreSQL, one engine', () => {
  beforeAll(async () => {
    if (!fs.existsSync(path.join(root, '.next', 'BUILD_ID'))) throw new Error('no production build: run `npx next build` first');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-replicas-'));
    for (const [rel, text] of Object.entries(files)) {
      const file = path.join(dir, 'labs', rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text, { mode: /check-|setup-/.test(rel) ? 0o755 : 0o644 });
    }
    process.env.LABFORGE_TEST_DATABASE_URL = pgServer;
    const { migratedDatabase } = await import('../support/database');
    databaseUrl = await migratedDatabase(dir);
    db = createDb(databaseUrl);
    for (const name of ['a', 'b']) {
      const port = await freePort();
      replicas.push({ name, port, base: `http://localhost:${port}`, dataDir: path.join(dir, `data-${name}`) });
    }
    await Promise.all(replicas.map(start));
  }, 180_000);

  afterAll(async () => {
    for (const r of replicas) r.process?.kill('SIGKILL');
    // Pool members outlive replicas (the next ones would claim them): these replicas have no next.
    for (const m of (await db?.poolMember.findMany()) ?? []) sessions.push(m.owner);
    for (const id of sessions) {
      const label = [`labforge.session=${id}`];
      for (const c of await docker.listContainers({ all: true, filters: { label } })) await docker.getContainer(c.Id).remove({ force: true });
      for (const n of await docker.listNetworks({ filters: { label } })) await docker.getNetwork(n.Id).remove();
    }
    await db?.$disconnect();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('share one instance name and both register; a session started on one is used on the other, terminal included', async () => {
    const [a, b] = replicas;
    expect(await db.replica.count()).toBe(2);
    expect(await db.setting.count({ where: { key: 'instance' } })).toBe(1);

    const started = await api(a.base, 'POST', '/api/v1/sessions', undefined, { lab: QUICK });
    expect(started.res.status).toBe(201);
    const cookie = started.res.headers.get('set-cookie')!.split(';')[0];
    const id = started.body.id as string;
    sessions.push(id);
    await untilActive(b.base, id, cookie);

    // A token from either replica opens the terminal on the other, and every socket reaches the one
    // shell of the tab (relayed to the replica running it): the same shell process through both.
    const throughB = await runInTerminal(a.base, b.base, id, cookie, 'touch /root/done; echo made-$((6*7)) shell=$$', /made-42 shell=\d+/);
    const throughA = await runInTerminal(b.base, a.base, id, cookie, 'ls /root/done && echo seen-$((6*8)) shell=$$', /seen-48 shell=\d+/);
    const shell = (out: string) => /(?:made-42|seen-48) shell=(\d+)/.exec(out)?.[1];
    expect(shell(throughA)).toBe(shell(throughB));
    expect(await db.terminalHolder.count({ where: { sessionId: id } })).toBe(1);
    // A token is used once, whichever replica sees it second.
    const token = (await api(b.base, 'POST', `/api/v1/sessions/${id}/terminals/shell/token`, cookie)).body.token as string;
    const first = new WebSocket(`${a.base.replace('http', 'ws')}/ws/terminal?token=${token}`, { origin: a.base });
    await new Promise((resolve, reject) => first.once('open', resolve).once('error', reject));
    first.close();
    const second = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${b.base.replace('http', 'ws')}/ws/terminal?token=${token}`, { origin: b.base });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
    });
    expect(second).toBe(401);

    // A Check through B sees what the terminal through A did.
    const checked = await api(b.base, 'POST', `/api/v1/sessions/${id}/check`, cookie, {});
    expect(checked.res.status, JSON.stringify(checked.body)).toBe(200);
    expect(checked.body.passed).toBe(true);

    expect((await api(a.base, 'DELETE', `/api/v1/sessions/${id}`, cookie)).res.status).toBe(200);
    expect((await api(b.base, 'GET', `/api/v1/sessions/${id}`, cookie)).body.status).toBe('stopped');
    await waitFor('the stopped session to leave nothing', async () => (await labelled(id)) === 0, 30_000, 250);
  });

  it('one warm pool for both replicas: filled once, claimed by sessions through either, refilled', async () => {
    const [a, b] = replicas;
    const members = () => db.poolMember.findMany({ where: { lab: POOLED } });
    const waiting = async () => (await members()).filter((m) => m.state !== 'claimed');
    await waitFor('the pool to have two ready members', async () => (await waiting()).filter((m) => m.state === 'ready').length === 2, 120_000, 250);
    // Two for the platform: pools per replica would have made two each by now.
    const made = await waiting();
    expect(made).toHaveLength(2);

    // A learner through each replica: both start on a ready member, whichever replica made it.
    const started: Array<{ id: string; cookie: string; owner: string }> = [];
    for (const r of [a, b]) {
      const res = await api(r.base, 'POST', '/api/v1/sessions', undefined, { lab: POOLED });
      expect(res.res.status).toBe(201);
      const cookie = res.res.headers.get('set-cookie')!.split(';')[0];
      const id = res.body.id as string;
      sessions.push(id);
      const view = await untilActive(r.base, id, cookie);
      expect(view.progress?.map((p) => p.step)).toContain('Claiming a ready environment');
      const env = JSON.parse((await db.session.findUniqueOrThrow({ where: { id } })).environment!) as { owner: string };
      started.push({ id, cookie, owner: env.owner });
    }
    expect(started.map((s) => s.owner).sort()).toEqual(made.map((m) => m.owner).sort());
    const preparedBy = await db.session.findMany({ where: { id: { in: started.map((s) => s.id) } }, select: { replicaId: true } });
    const pids = new Map((await db.replica.findMany()).map((r) => [r.id, r.pid]));
    const name = (id: string | null) => replicas.find((r) => r.process?.pid === pids.get(id ?? ''))?.name ?? id;
    console.log(
      `pool: members made by ${made.map((m) => name(m.replicaId)).join(', ')}; claimed by sessions prepared on ${preparedBy.map((p) => name(p.replicaId)).join(', ')}`,
    );
    await runInTerminal(a.base, b.base, started[0].id, started[0].cookie, 'ls /root/prepared && echo warm-$((5*5))', /warm-25/);

    // Refilled to two, and no more.
    await waitFor('the pool to be refilled', async () => (await waiting()).filter((m) => m.state === 'ready').length === 2, 120_000, 250);
    expect(await waiting()).toHaveLength(2);
    for (const s of started) {
      expect((await api(b.base, 'DELETE', `/api/v1/sessions/${s.id}`, s.cookie)).res.status).toBe(200);
      await waitFor('the stopped session to leave nothing', async () => (await labelled(s.owner)) === 0, 30_000, 250);
    }
    expect(await unaccounted()).toEqual([]);
  });
  it('a replica killed mid-provisioning: the other takes the job over, finishes it, and nothing leaks', async () => {
    const [a] = replicas;
    const started = await api(a.base, 'POST', '/api/v1/sessions', undefined, { lab: SLOW });
    expect(started.res.status).toBe(201);
    const cookie = started.res.headers.get('set-cookie')!.split(';')[0];
    const id = started.body.id as string;
    sessions.push(id);

    // Whichever replica took the job: wait until its container exists (track setup then runs 6 s), then kill it.
    const claimed = await waitFor(
      'a replica to claim the job and create the host',
      async () => {
        const row = await db.session.findUnique({ where: { id } });
        // The container, not just the network (made first): the kill must find a half-made host to clean up.
        return !!row?.replicaId && (await containersOf(id)).length > 0 && row;
      },
      60_000,
      100,
    );
    const owner = await db.replica.findUniqueOrThrow({ where: { id: claimed.replicaId! } });
    const victim = replicas.find((r) => r.process?.pid === owner.pid)!;
    const survivor = replicas.find((r) => r !== victim)!;
    expect(victim, 'the claiming replica is one of ours').toBeTruthy();
    const killedAt = Date.now();
    victim.process!.kill('SIGKILL');
    await new Promise((r) => victim.process!.once('exit', r));
    const firstContainers = await containersOf(id);
    expect(firstContainers.length).toBeGreaterThan(0);

    const view = await untilActive(survivor.base, id, cookie);
    const tookOverMs = Date.now() - killedAt;
    const row = await db.session.findUniqueOrThrow({ where: { id } });
    const survivorRow = await db.replica.findFirstOrThrow({ where: { pid: survivor.process!.pid } });
    expect(row.replicaId).toBe(survivorRow.id);
    expect(view.progress?.map((p) => p.step)).toContain(TAKEN_OVER_STEP);
    // The half-made host is gone; the session runs on a new one, with the track setup done.
    const now = await containersOf(id);
    expect(now.length).toBe(1);
    expect(firstContainers).not.toContain(now[0]);
    await runInTerminal(survivor.base, survivor.base, id, cookie, 'ls /root/prepared && echo ready-$((7*7))', /ready-49/);
    // The queue recorded the retry: one job, completed on its second attempt.
    const jobs = await db.$queryRawUnsafe<Array<{ state: string; retry_count: number }>>(
      `SELECT state, retry_count FROM pgboss.job WHERE id = $1::uuid UNION ALL SELECT state, retry_count FROM pgboss.archive WHERE id = $1::uuid`,
      row.provisionJob,
    );
    expect(jobs).toEqual([{ state: 'completed', retry_count: 1 }]);
    console.log(`replica killed mid-provisioning: the other had the session active ${tookOverMs} ms later`);

    expect((await api(survivor.base, 'DELETE', `/api/v1/sessions/${id}`, cookie)).res.status).toBe(200);
    await waitFor('the session to leave nothing', async () => (await labelled(id)) === 0, 30_000, 250);
    // Nothing else of this platform's is left on the engine: every container with its instance label is a warm-pool member.
    await waitFor('only pool members left', async () => (await unaccounted()).length === 0, 30_000, 250).catch(async () => {
      expect(await unaccounted()).toEqual([]);
    });
  });
});
