/**
 * Shared setup of the tamper suite (test/security): a SessionService over real Docker and the
 * fixture labs, commands run as the learner and as the platform, and the per-state attack
 * matrix. Not a test file itself.
 *
 * Learner commands run exactly like a learner terminal: `lf-sandbox bash -c CMD` as root (no
 * CAP_SETPCAP). Undo and inspection run as the platform does: the toolbox's sh, full capabilities.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createDb, type Db } from '../../lib/db/client';
import { DockerDriver } from '../../lib/environments/docker/driver';
import type { Environment, EnvironmentSpec, ExecResult, ProgressFn } from '../../lib/environments/driver';
import { LabCatalog } from '../../lib/labs/catalog';
import { log } from '../../lib/base/log';
import type { CheckResult } from '../../lib/sessions/commands';
import { SessionService } from '../../lib/sessions/service';
import { waitFor } from '../support/wait';
import { migratedDatabase } from '../support/database';

export const ROOT = path.resolve(__dirname, '../..');
export const FIXTURES = path.join(__dirname, 'fixtures');
export const SANDBOX = '/.labforge/bin/lf-sandbox';
export const TOOLBOX_PATH = '/.labforge/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const LEARNER = 'l'.repeat(32);
/** CAP_SETPCAP: the one capability checks keep and learner processes lack. */
export const CAP_SETPCAP = 8n;

/** A Docker driver that can run something in every host right after creation, before any script. */
export class HookedDriver extends DockerDriver {
  afterCreate?: (env: Environment) => Promise<void>;
  override async create(spec: EnvironmentSpec, progress: ProgressFn, signal?: AbortSignal): Promise<Environment> {
    const env = await super.create(spec, progress, signal);
    await this.afterCreate?.(env);
    return env;
  }
}

export interface Suite {
  db: Db;
  driver: HookedDriver;
  svc: SessionService;
  dir: string;
}

/** A migrated database (test/support/database.ts), the fixture labs (plus `labsDirs`), author mode on. */
export async function openSuite(labsDirs: string[] = [FIXTURES]): Promise<Suite> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-tamper-'));
  const db = createDb(await migratedDatabase(dir));
  const catalog = new LabCatalog(labsDirs);
  await catalog.load();
  const driver = new HookedDriver({ instance: `tamper-${process.pid}-${randomBytes(3).toString('hex')}` });
  const svc = new SessionService({ db, catalog, drivers: { docker: driver }, log, authorMode: true });
  return { db, driver, svc, dir };
}

/** Stops every session (a provisioning one too: that aborts it), then removes whatever is left. */
export async function closeSuite(s: Suite | undefined): Promise<void> {
  if (!s) return;
  const live = await s.db.session.findMany({ where: { status: { in: ['provisioning', 'active'] } } });
  for (const row of live) await s.svc.stop(row.id, LEARNER).catch(() => undefined);
  for (const env of await s.driver.list()) await s.driver.destroyOwner(env.owner);
  await s.db.$disconnect();
  fs.rmSync(s.dir, { recursive: true, force: true });
}

export interface Live {
  s: Suite;
  id: string;
  env: Environment;
}

/** Starts a session (at `challenge`, author mode) and waits until it is active. */
export async function startSession(s: Suite, slug: string, challenge?: string, ms = 150_000): Promise<Live> {
  const { id } = await s.svc.start(slug, LEARNER, challenge ? { challenge } : {});
  await until(
    `session ${id} active`,
    async () => {
      const view = await s.svc.get(id, LEARNER);
      if (view.status !== 'provisioning' && view.status !== 'active') throw new Error(`session is ${view.status}: ${view.error}`);
      return view.status === 'active';
    },
    ms,
    250,
  );
  const row = await s.db.session.findUniqueOrThrow({ where: { id } });
  return { s, id, env: JSON.parse(row.environment!) as Environment };
}

/** The learner presses Check. */
export async function check(live: Live): Promise<CheckResult> {
  return live.s.svc.check(live.id, LEARNER);
}

export async function sessionVars(s: Suite, id: string): Promise<Record<string, string>> {
  const row = await s.db.session.findUniqueOrThrow({ where: { id } });
  return JSON.parse(row.variables) as Record<string, string>;
}

/** A learner command, run like a learner terminal runs one: root, through lf-sandbox. */
export function asLearner(live: Live, host: string, cmd: string, timeoutMs = 30_000): Promise<ExecResult> {
  return live.s.driver.exec(live.env, host, [SANDBOX, 'bash', '-c', cmd], { user: 'root', timeoutMs });
}

/** The platform's own command: the toolbox's sh with full capabilities (undo, inspection). */
export function asPlatform(live: Live, host: string, cmd: string, timeoutMs = 30_000): Promise<ExecResult> {
  return live.s.driver.exec(live.env, host, ['/.labforge/bin/sh', '-c', cmd], { user: 'root', env: { PATH: TOOLBOX_PATH }, timeoutMs });
}

/** Fails with the command's output unless it exited 0. */
export async function ok(pending: Promise<ExecResult>, what: string): Promise<ExecResult> {
  const r = await pending;
  if (r.exitCode !== 0) throw new Error(`${what}: exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  return r;
}

export const hostsOf = (live: Live) => live.env.hosts.map((h) => h.name);

/** Polls a host through the engine: slower than in-process waits (each poll is an exec), 15 s by default. */
export const until = <T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 15_000, every = 100): Promise<T> => waitFor(what, fn, ms, every);

/** Whether a UDP socket is bound to `port` in the host (read by the platform from /proc/net/udp). */
export async function udpBound(live: Live, host: string, port: number): Promise<boolean> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return (await asPlatform(live, host, `awk 'NR > 1 && $2 ~ /:${hex}$/ { f = 1 } END { exit !f }' /proc/net/udp`)).exitCode === 0;
}

/** The bounding set from a /proc/PID/status text. */
export function capBnd(status: string): bigint {
  const m = /CapBnd:\s*([0-9a-f]+)/.exec(status);
  if (!m) throw new Error(`no CapBnd line in: ${status.slice(0, 200)}`);
  return BigInt(`0x${m[1]}`);
}
export const hasCap = (set: bigint, cap: bigint) => ((set >> cap) & 1n) === 1n;

// ---- the fixture lab's first challenge, "flag", in three states of the learner's work --------

export type State = 'none' | 'half' | 'done';
/** What Check says in each state, without any attack. */
export const FLAG_VERDICTS: Record<State, CheckResult> = {
  none: { passed: false, message: '/root/flag must hold the word ready' },
  half: { passed: false, message: 'nothing listens on UDP port 5000 on the server' },
  done: { passed: true, message: 'Well done: "Raise the flag" is complete.' },
};

/** Does the learner's work up to `state` (as the learner), after undoing any earlier state. */
export async function setFlagState(live: Live, state: State): Promise<void> {
  await clearFlagState(live);
  if (state === 'none') return;
  await ok(asLearner(live, 'workstation', 'echo ready > /root/flag'), 'writing /root/flag');
  if (state === 'half') return;
  await ok(asLearner(live, 'server', 'nohup socat -u UDP4-RECV:5000 /dev/null </dev/null >/dev/null 2>&1 & echo $! > /root/.listener.pid'), 'starting socat');
  await until('the listener on the server', () => udpBound(live, 'server', 5000));
}

export async function clearFlagState(live: Live): Promise<void> {
  await ok(asPlatform(live, 'workstation', 'rm -f /root/flag'), 'removing /root/flag');
  await ok(asPlatform(live, 'server', '[ -s /root/.listener.pid ] && kill "$(cat /root/.listener.pid)"; rm -f /root/.listener.pid; true'), 'stopping socat');
  await until('no listener on the server', async () => !(await udpBound(live, 'server', 5000)));
}

// ---- the attack matrix ------------------------------------------------------------------------

export interface Attack {
  name: string;
  /** Applies the attack in one host, as the learner. */
  apply: (live: Live, host: string) => Promise<void>;
  /** Asserts that the attack is in force in that host (so a passing test is not a dud attack). */
  proof?: (live: Live, host: string) => Promise<void>;
  /** Undoes it, run by the platform with the toolbox's sh. */
  undo: string;
}

/**
 * For each state of the work and each attack: apply it in every host, press Check, expect the
 * verdict of that state without the attack, undo. `live()` gives the session of the file.
 * Default states: nothing done (the first check fails: a forged pass would show) and all done
 * (both checks pass: a forged failure would show).
 */
export function attackMatrix(live: () => Live, attacks: Attack[], states: State[] = ['none', 'done']): void {
  describe.each(states)('with the work %s', (state) => {
    beforeAll(async () => {
      await setFlagState(live(), state);
      expect(await check(live()), 'the verdict without any attack').toEqual(FLAG_VERDICTS[state]);
    });
    afterAll(async () => {
      expect(await check(live()), 'the verdict after every attack was undone').toEqual(FLAG_VERDICTS[state]);
    });

    it.each(attacks)('$name: the verdict stays', async (attack) => {
      const l = live();
      try {
        await Promise.all(hostsOf(l).map((h) => attack.apply(l, h)));
        await Promise.all(hostsOf(l).map((h) => attack.proof?.(l, h)));
        expect(await check(l)).toEqual(FLAG_VERDICTS[state]);
      } finally {
        await Promise.all(hostsOf(l).map((h) => ok(asPlatform(l, h, attack.undo), `undo ${attack.name} in ${h}`)));
      }
    });
  });
}
