/**
 * The session state machine: the one place that decides what happens to a
 * learner's session. provisioning → active → completed | expired | failed | stopped.
 * State lives in the database so reloads, reconnects and restarts resume.
 */
import crypto from 'node:crypto';
import type { SessionRow } from '../db/client';
import type { Environment, ProgressStep } from '../environments/driver';
import type { Lab, Tab } from '../labs/schema';
import { generateVariables } from '../checks/variables';
import type { SessionDeps } from './store';
import { HostWatch } from './host-watch';
import { ProgressLog } from './progress';
import { QuizRefusal, Runbook, RunbookError } from './runbook';
import { SessionError, notFound } from './errors';
import { CHECK_OUTPUT, droppedOutput, outputToDrop, storedOutput } from './check-output';
import { planHosts, readHostStates } from './host-recovery';
import { parseHosts } from './hosts';
export type { SessionDeps } from './store';
import { LIVE_STATUSES, challengeView, reachableTab, sessionView, type ChallengeView, type SessionStatus, type SessionView } from './view';

/** One extension of the time limit, of this length, per session. */
export const EXTENSION_MS = 15 * 60_000;
const MAX_EXTENSIONS = 1;

export interface CheckResult {
  passed: boolean;
  message: string;
}

/** Session ids appear in container and network names: short, lowercase, unguessable. */
const newSessionId = () =>
  crypto
    .randomBytes(10)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x');

export class SessionService extends HostWatch {
  private provisioning = new Map<string, AbortController>();
  constructor(deps: SessionDeps) {
    super(deps);
  }

  // ---- queries ---------------------------------------------------------

  async get(id: string, learnerId: string): Promise<SessionView> {
    const { row, lab } = await this.owned(id, learnerId);
    const progress = await this.deps.db.challengeProgress.findMany({ where: { sessionId: id } });
    return sessionView(row, lab, progress);
  }

  async listFor(learnerId: string): Promise<SessionView[]> {
    const rows = await this.deps.db.session.findMany({ where: { learnerId }, orderBy: { createdAt: 'desc' }, take: 50 });
    const views: SessionView[] = [];
    for (const row of rows) {
      const lab = this.deps.catalog.get(row.labSlug);
      if (lab) views.push(sessionView(row, lab, []));
    }
    return views;
  }

  // ---- commands --------------------------------------------------------

  async start(labSlug: string, learnerId: string, opts: { challenge?: string } = {}): Promise<{ id: string; status: SessionStatus }> {
    const lab = this.deps.catalog.get(labSlug);
    if (!lab) throw notFound(`lab "${labSlug}"`);
    this.driverFor(lab); // fail fast on an unknown driver
    let startAt = 0;
    if (opts.challenge !== undefined) {
      if (!this.deps.authorMode) throw new SessionError('forbidden', 'starting at a later challenge needs author mode (LABFORGE_AUTHOR_MODE=1)');
      startAt = lab.challenges.findIndex((c) => c.slug === opts.challenge);
      if (startAt < 0) throw new SessionError('invalid', `lab "${labSlug}" has no challenge "${opts.challenge}"`);
    }
    // One learner's starts are serialised, so two at once cannot both pass the cap.
    return this.lock.run(`learner:${learnerId}`, async () => {
      await this.requireRoom(learnerId, lab);
      const id = newSessionId();
      const vars = generateVariables(lab.track.variables);
      await this.deps.db.lab.upsert({
        where: { slug: lab.track.slug },
        create: { slug: lab.track.slug, title: lab.track.title, driver: lab.track.environment.driver, digest: '' },
        update: { title: lab.track.title, driver: lab.track.environment.driver },
      });
      await this.deps.db.session.create({
        data: {
          id,
          labSlug,
          learnerId,
          status: 'provisioning',
          variables: JSON.stringify(vars),
          challenges: { create: lab.challenges.map((c) => ({ index: c.index, slug: c.slug })) },
        },
      });
      await this.event(id, 'session.created', { lab: labSlug });
      void this.provision(id, lab, vars, startAt);
      return { id, status: 'provisioning' as const };
    });
  }

  /**
   * Refuses a start past the learner's caps (deps.sessionCaps) with a 409 that names the live
   * session(s), `{session, sessions: [{id, lab, status}]}`, so the client can resume or stop one.
   */
  private async requireRoom(learnerId: string, lab: Lab): Promise<void> {
    const caps = this.deps.sessionCaps;
    if (!caps) return;
    const live = await this.deps.db.session.findMany({
      where: { learnerId, status: { in: LIVE_STATUSES } },
      orderBy: { createdAt: 'asc' },
      select: { id: true, labSlug: true, status: true },
    });
    const named = (rows: typeof live) => {
      const sessions = rows.map((r) => ({ id: r.id, lab: r.labSlug, status: r.status }));
      return { session: sessions[0], sessions };
    };
    // Short: error messages are capped (lib/http/route.ts); `sessions` carries the whole list.
    const describe = (r: (typeof live)[number]) => `${r.labSlug} (session ${r.id}, ${r.status})`;
    const sameLab = live.filter((r) => r.labSlug === lab.track.slug);
    if (sameLab.length >= caps.perLab) {
      const first = sameLab[0];
      throw new SessionError(
        'conflict',
        sameLab.length === 1
          ? `You already have a live session of this lab: ${describe(first)}. Resume it at /sessions/${first.id}, or stop it before starting another.`
          : `You already have ${sameLab.length} live sessions of this lab (${sameLab.map(describe).join(', ')}): resume one, or stop one before starting another.`,
        named(sameLab),
      );
    }
    if (live.length >= caps.perLearner) {
      throw new SessionError(
        'conflict',
        `You already have ${live.length} live sessions, the most one learner may run at once: ${live.map(describe).join(', ')}. Stop one before starting another.`,
        named(live),
      );
    }
  }

  async check(id: string, learnerId: string, body: { answers?: number[] } = {}): Promise<CheckResult> {
    return this.lock.run(id, async () => {
      const { row, lab } = await this.owned(id, learnerId);
      this.requireActive(row);
      await this.requireHostsUp(row, lab);
      const challenge = lab.challenges[row.currentIndex];
      const started = Date.now();
      // Quiz tries are counted in the database (ChallengeProgress.attempts, written in the same
      // transaction as each try's CheckRun), so a restarted server hands out no fresh ones.
      const triesUsed = challenge.type === 'quiz' ? await this.triesUsed(id, row.currentIndex) : 0;
      const verdict = await this.runbook(row, lab)
        .check(row.currentIndex, body.answers, triesUsed)
        .catch((e: unknown) => {
          if (e instanceof QuizRefusal) throw new SessionError(e.why === 'exhausted' ? 'conflict' : 'invalid', e.message);
          throw e;
        });
      // Stored output is bounded per run and per session (check-output.ts); the verdict is not.
      const limits = this.deps.checkOutput ?? CHECK_OUTPUT;
      const dropped = droppedOutput(limits.perSession);
      let output = storedOutput(verdict.output, limits.perRun);
      const room = await outputToDrop(this.deps.db, id, output.length, limits);
      if (!room.fits) output = dropped;
      await this.deps.db.$transaction([
        ...room.drop.map((runId) => this.deps.db.checkRun.update({ where: { id: runId }, data: { output: dropped } })),
        this.deps.db.checkRun.create({
          data: {
            sessionId: id,
            challenge: challenge.slug,
            kind: challenge.type === 'quiz' ? 'quiz' : 'check',
            passed: verdict.passed,
            message: verdict.message,
            output,
            durationMs: Date.now() - started,
          },
        }),
        this.deps.db.challengeProgress.update({
          where: { sessionId_index: { sessionId: id, index: row.currentIndex } },
          data: {
            attempts: { increment: 1 },
            ...(verdict.passed ? { status: 'completed', completedAt: this.now() } : {}),
          },
        }),
        this.deps.db.session.update({ where: { id }, data: { lastActiveAt: this.now() } }),
      ]);
      this.log.info({ session: id, challenge: challenge.slug, passed: verdict.passed }, 'check');
      return { passed: verdict.passed, message: verdict.message };
    });
  }

  private async triesUsed(sessionId: string, index: number): Promise<number> {
    const progress = await this.deps.db.challengeProgress.findUnique({ where: { sessionId_index: { sessionId, index } } });
    return progress?.attempts ?? 0;
  }

  /** Moves to the next challenge (cleanup, then the next one's setup). After the last one the session completes. */
  async next(id: string, learnerId: string): Promise<SessionView> {
    return this.lock.run(id, async () => {
      const { row, lab } = await this.owned(id, learnerId);
      this.requireActive(row);
      await this.requireHostsUp(row, lab);
      const progress = await this.deps.db.challengeProgress.findUnique({
        where: { sessionId_index: { sessionId: id, index: row.currentIndex } },
      });
      const current = lab.challenges[row.currentIndex];
      await this.touch(id);
      // A quiz whose attempts are used up is over: the learner moves on, the quiz stays failed.
      const quizOver = current.type === 'quiz' && !!current.attempts && (progress?.attempts ?? 0) >= current.attempts;
      const skip = progress?.status !== 'completed' && !quizOver;
      if (skip && !lab.track.skipping_enabled) throw new SessionError('conflict', `"${current.title}" is not complete yet: press Check first`);
      // The runbook solves a skipped challenge (later ones build on its state), then cleans up.
      const cleanup = await this.runbook(row, lab)
        .leave(row.currentIndex, { skip })
        .catch((e: unknown) => {
          throw e instanceof RunbookError ? new SessionError('unavailable', e.message) : e;
        });
      if (skip) await this.markChallenge(id, row.currentIndex, 'skipped');
      else if (quizOver && progress?.status !== 'completed') await this.markChallenge(id, row.currentIndex, 'failed');
      // A learner moving on is not held back by a cleanup script; `labforge test` is where authors see it fail.
      if (!cleanup.ok) this.log.warn({ session: id, challenge: current.slug }, 'cleanup script failed; continuing');
      const nextIndex = row.currentIndex + 1;
      if (nextIndex >= lab.challenges.length) {
        await this.end(row, lab, 'completed');
      } else {
        await this.enterChallenge(row, lab, nextIndex);
      }
      return this.get(id, learnerId);
    });
  }

  async stop(id: string, learnerId: string): Promise<void> {
    await this.lock.run(id, async () => {
      const { row, lab } = await this.owned(id, learnerId);
      if (!LIVE_STATUSES.includes(row.status as SessionStatus)) return;
      await this.end(row, lab, 'stopped');
    });
  }

  /** Adds EXTENSION_MS to the time limit, once per session. */
  async extend(id: string, learnerId: string): Promise<SessionView> {
    return this.lock.run(id, async () => {
      const { row } = await this.owned(id, learnerId);
      this.requireActive(row);
      if (row.extensions >= MAX_EXTENSIONS) throw new SessionError('conflict', 'this session was already extended once');
      const base = Math.max(row.expiresAt?.getTime() ?? 0, this.now().getTime());
      await this.deps.db.session.update({
        where: { id },
        data: { expiresAt: new Date(base + EXTENSION_MS), extensions: { increment: 1 }, lastActiveAt: this.now() },
      });
      await this.event(id, 'session.extended', {});
      return this.get(id, learnerId);
    });
  }

  /** An earlier (or the current) challenge, to look back at: read-only, nothing is rerun. */
  async challengeAt(id: string, learnerId: string, index: number): Promise<ChallengeView> {
    const { row, lab } = await this.owned(id, learnerId);
    const c = lab.challenges[index];
    if (!c || index > row.currentIndex) throw new SessionError('not_found', `challenge ${index + 1} is not open yet`);
    return challengeView(c);
  }

  /** Which host a terminal tab of this session runs in, for the terminal gateway (and its tokens). */
  async terminalTarget(id: string, learnerId: string, tab: string) {
    const { row, lab, t } = await this.reachedTab(id, learnerId, 'terminal', tab);
    if (!t.hostname) throw new SessionError('not_found', `no terminal tab "${tab}" in this lab`);
    const env = this.environmentOf(row);
    await this.requireHostsUp(row, lab, t.hostname, { record: false });
    return { driver: this.driverFor(lab), env, host: t.hostname, key: `${id}:${tab}` };
  }

  /** The host and path an editor tab edits; learners can only reach the path the lab names. */
  async editorTarget(id: string, learnerId: string, tab: string) {
    const { row, lab, t } = await this.reachedTab(id, learnerId, 'editor', tab);
    if (!t.hostname || !t.path) throw new SessionError('not_found', `no editor tab "${tab}" in this lab`);
    await this.requireHostsUp(row, lab, t.hostname, { record: false });
    return { driver: this.driverFor(lab), env: this.environmentOf(row), host: t.hostname, path: t.path };
  }

  /** Where a service tab's traffic goes: its host's address on the session network and the tab's port. */
  async serviceTarget(id: string, learnerId: string, tab: string) {
    const { row, t } = await this.reachedTab(id, learnerId, 'service', tab);
    if (!t.hostname || !t.port) throw new SessionError('not_found', `no service tab "${tab}" in this lab`);
    const host = this.environmentOf(row).hosts.find((h) => h.name === t.hostname);
    if (!host?.address) throw new SessionError('unavailable', `host ${t.hostname} has no address to reach port ${t.port} on`);
    return { address: host.address, port: t.port };
  }

  /** The environment a Traffic tab captures from, once the learner has reached a challenge that has one. */
  async trafficTarget(id: string, learnerId: string) {
    const { row, lab } = await this.reachedTab(id, learnerId, 'traffic');
    return { driver: this.driverFor(lab), env: this.environmentOf(row) };
  }

  /**
   * The one gate for every tab resolver: an active session's tab of this type (and id) from the
   * current or an earlier challenge (view.ts reachableTab). Later challenges' tabs answer 404 like
   * tabs that do not exist, so nothing ahead (an exam's answer file) leaks early.
   */
  private async reachedTab(id: string, learnerId: string, type: Tab['type'], tab?: string) {
    const { row, lab } = await this.owned(id, learnerId);
    this.requireActive(row);
    const t = reachableTab(lab, row.currentIndex, type, tab);
    if (!t) throw new SessionError('not_found', `no ${type} tab${tab === undefined ? '' : ` "${tab}"`} in the challenges reached so far`);
    return { row, lab, t };
  }

  async touch(id: string): Promise<void> {
    await this.deps.db.session.updateMany({ where: { id }, data: { lastActiveAt: this.now() } });
  }

  // ---- housekeeping ----------------------------------------------------

  /** On server start: resume what can be resumed, fail what was cut off mid-provisioning. */
  async resumeAll(): Promise<void> {
    const live = await this.deps.db.session.findMany({ where: { status: { in: LIVE_STATUSES } } });
    for (const row of live) {
      const lab = this.deps.catalog.get(row.labSlug);
      if (!lab) {
        await this.fail(row, null, `the lab "${row.labSlug}" is no longer installed`);
        continue;
      }
      if (row.status === 'provisioning') {
        await this.fail(row, lab, 'the server restarted while this environment was being prepared: start the lab again');
        continue;
      }
      // A host that is gone fails the session; a stopped one is recorded for the learner to restart.
      // An engine that cannot be asked right now (restarting, overloaded) fails nothing: the
      // session is resumed as it was, and the watch pass judges its hosts once the engine answers.
      const states = await readHostStates(this.driverFor(lab), this.environmentOf(row)).catch((e: Error) => {
        this.log.warn({ session: row.id, err: e.message }, 'could not read the hosts on resume; the watch pass will');
        return undefined;
      });
      const { gone } = states ? planHosts(states, parseHosts(row.hosts), this.hostNames(lab), this.now()) : { gone: undefined };
      if (gone) {
        await this.fail(row, lab, `the environment is gone (${gone}): start the lab again`);
        continue;
      }
      if (states) await this.applyHostStates(row, lab, states);
      this.deps.capacity?.hold({ id: row.id, cost: this.deps.capacity.costOf(lab) });
      this.log.info({ session: row.id, hostsRead: !!states }, 'resumed');
    }
  }

  /** Ends sessions past their time limit or idle for longer than their lab allows. Called periodically. */
  async sweep(): Promise<void> {
    const now = this.now();
    const active = await this.deps.db.session.findMany({ where: { status: 'active' } });
    for (const row of active) {
      const lab = this.deps.catalog.get(row.labSlug);
      if (!lab) continue;
      const idleMs = now.getTime() - row.lastActiveAt.getTime();
      const reason =
        row.expiresAt && row.expiresAt < now
          ? 'the time limit was reached'
          : idleMs > lab.track.idle_timeout * 1000
            ? `no activity for ${Math.round(lab.track.idle_timeout / 60)} minutes`
            : undefined;
      if (!reason) continue;
      await this.lock.run(row.id, async () => {
        const fresh = await this.deps.db.session.findUnique({ where: { id: row.id } });
        if (fresh?.status === 'active') await this.end(fresh, lab, 'expired', reason);
      });
    }
  }

  /** Session ids whose environments must be kept (for the reconciler). */
  /** Owners whose environments must be kept (for the reconciler): live sessions' and the pool's. */
  async liveOwners(): Promise<Set<string>> {
    const rows = await this.deps.db.session.findMany({
      where: { status: { in: LIVE_STATUSES } },
      select: { id: true, environment: true },
    });
    const owners = new Set(rows.map((r) => r.id));
    // A claimed pool environment keeps its `pool-…` owner label.
    for (const r of rows) if (r.environment) owners.add((JSON.parse(r.environment) as Environment).owner);
    for (const o of this.deps.pool?.ownedBy() ?? []) owners.add(o);
    return owners;
  }

  // ---- internals -------------------------------------------------------

  private async provision(id: string, lab: Lab, vars: Record<string, string>, startAt = 0): Promise<void> {
    const abort = new AbortController();
    this.provisioning.set(id, abort);
    const progress = new ProgressLog((steps) => {
      // Prisma queries run only when awaited or then'd: catch() starts it (and a lost update is harmless).
      this.deps.db.session
        .updateMany({ where: { id, status: 'provisioning' }, data: { progress: JSON.stringify(steps) } })
        .catch((e: Error) => this.log.warn({ session: id, err: e.message }, 'could not save progress'));
    });
    const report = progress.report;
    const driver = this.driverFor(lab);
    let env: Environment | undefined;
    try {
      env = this.deps.pool?.claim(lab.track.slug, id);
      const warm = !!env;
      if (env) {
        // A warm environment: created and through track setup already; only learner-specific work remains.
        report({ step: 'Claiming a ready environment', status: 'done', ms: 0 });
        await this.deps.db.session.update({ where: { id }, data: { environment: JSON.stringify(env) } });
      } else {
        await this.waitForCapacity(id, lab, report, abort.signal);
        env = await driver.create({ owner: id, lab: lab.track.slug, labRoot: lab.root, environment: lab.track.environment }, report, abort.signal);
        await this.deps.db.session.update({ where: { id }, data: { environment: JSON.stringify(env) } });
      }
      const book = Runbook.of(driver, lab, env, vars);
      if (!warm) await progress.timed('Running track setup', () => book.prepare());
      // Author mode replays the challenges before startAt (setup, solve, cleanup), then enters it.
      await book.startAt(startAt, async (c, what, run) => {
        if (what === 'enter') return progress.timed(`Preparing "${c.title}"`, run);
        await progress.timed(`Solving "${c.title}" (author mode)`, run);
        await this.markChallenge(id, c.index, 'skipped');
      });
      const now = this.now();
      const row = await this.deps.db.session.findUniqueOrThrow({ where: { id } });
      if (row.status !== 'provisioning') throw new Error(`session was ${row.status} while provisioning`);
      await this.deps.db.$transaction([
        this.deps.db.session.update({
          where: { id },
          data: {
            status: 'active',
            startedAt: now,
            lastActiveAt: now,
            expiresAt: new Date(now.getTime() + lab.track.timelimit * 1000),
            progress: JSON.stringify(progress.steps),
            currentIndex: startAt,
          },
        }),
        this.deps.db.challengeProgress.update({
          where: { sessionId_index: { sessionId: id, index: startAt } },
          data: { status: 'active', startedAt: now },
        }),
      ]);
      await this.event(id, 'session.active', { ms: progress.totalMs() });
      this.log.info({ session: id, lab: lab.track.slug }, 'session active');
    } catch (e) {
      const message = (e as Error).message;
      try {
        const row = await this.deps.db.session.findUnique({ where: { id } });
        // A session stopped while it was being prepared is not a failure.
        if (row?.status === 'provisioning') this.log.error({ session: id, err: message }, 'provisioning failed');
        else this.log.info({ session: id, status: row?.status }, 'provisioning cancelled');
        if (row?.status === 'provisioning') await this.fail(row, lab, message, env);
        else if (env) await driver.destroy(env).catch(() => undefined);
      } catch (saving) {
        // The database itself failed (read-only, disk full): the environment goes anyway, and the
        // session, still `provisioning`, is failed by the next start's resume pass.
        this.log.error({ session: id, err: message, saving: (saving as Error).message }, 'provisioning failed and could not be recorded');
        if (env) await driver.destroy(env).catch(() => undefined);
      }
      this.deps.capacity?.release(id);
    } finally {
      this.provisioning.delete(id);
    }
  }

  /** Takes a slot of the host's capacity, telling the learner their place in the queue meanwhile. */
  private async waitForCapacity(id: string, lab: Lab, report: (p: ProgressStep) => void, signal: AbortSignal) {
    const capacity = this.deps.capacity;
    if (!capacity) return;
    const step = 'Waiting for a free slot';
    let queued = false;
    const t = Date.now();
    await capacity.acquire(
      {
        id,
        cost: capacity.costOf(lab),
        onPosition: (p) => {
          if (p > 0) {
            queued = true;
            report({ step, status: 'running', detail: `number ${p} in the queue` });
          }
        },
      },
      signal,
    );
    if (queued) report({ step, status: 'done', ms: Date.now() - t });
  }

  private async enterChallenge(row: SessionRow, lab: Lab, index: number) {
    const challenge = lab.challenges[index];
    await this.markChallenge(row.id, index, 'setting-up');
    await this.deps.db.session.update({ where: { id: row.id }, data: { currentIndex: index } });
    try {
      await this.runbook(row, lab).enter(index);
    } catch (e) {
      if (!(e instanceof RunbookError)) throw e;
      await this.markChallenge(row.id, index, 'failed');
      throw new SessionError('unavailable', e.message);
    }
    await this.deps.db.challengeProgress.update({
      where: { sessionId_index: { sessionId: row.id, index } },
      data: { status: 'active', startedAt: this.now() },
    });
    await this.event(row.id, 'challenge.entered', { challenge: challenge.slug });
  }

  /** The challenge walk over this session's environment and variables (see runbook.ts). */
  private runbook(row: SessionRow, lab: Lab) {
    return new Runbook(lab, this.lifecycle(row, lab));
  }

  private async end(row: SessionRow, lab: Lab, status: SessionStatus, error?: string) {
    this.provisioning.get(row.id)?.abort();
    this.deps.capacity?.release(row.id);
    await this.deps.db.session.update({ where: { id: row.id }, data: { status, endedAt: this.now(), error } });
    await this.deps.onEnded?.(row.id).catch(() => undefined);
    const driver = this.deps.drivers[lab.track.environment.driver];
    if (row.environment)
      await driver?.destroy(JSON.parse(row.environment) as Environment).catch((e: Error) => this.log.warn({ err: e.message }, 'destroy failed'));
    else await driver?.destroyOwner(row.id).catch(() => undefined);
    await this.event(row.id, `session.${status}`, error ? { error } : {});
    this.log.info({ session: row.id, status }, 'session ended');
  }

  protected async fail(row: SessionRow, lab: Lab | null, message: string, env?: Environment) {
    const withEnv = env && !row.environment ? { ...row, environment: JSON.stringify(env) } : row;
    if (lab) await this.end(withEnv, lab, 'failed', message);
    else await this.deps.db.session.update({ where: { id: row.id }, data: { status: 'failed', error: message, endedAt: this.now() } });
  }
}
