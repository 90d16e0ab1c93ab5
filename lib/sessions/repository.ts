/**
 * Every database read and write of a session: its row, its challenges' progress, its check runs
 * and its events. One place, so what a status change writes (and in which transaction) can be
 * read here instead of searched for across the state machine.
 */
import type { Db, SessionRow } from '../db/client';
import type { Environment, ProgressStep } from '../environments/driver';
import type { Lab } from '../labs/schema';
import type { Verdict } from './lifecycle';
import { CHECK_OUTPUT, droppedOutput, outputToDrop, storedOutput, type CheckOutputLimits } from './check-output';
import { parseHosts, updateHost } from './hosts';
import { LIVE_STATUSES, type SessionStatus } from './view';

export class SessionRepository {
  constructor(
    private db: Db,
    private now: () => Date,
  ) {}

  find(id: string): Promise<SessionRow | null> {
    return this.db.session.findUnique({ where: { id } });
  }

  /** The learner's newest sessions, for their list. */
  recentOf(learnerId: string): Promise<SessionRow[]> {
    return this.db.session.findMany({ where: { learnerId }, orderBy: { createdAt: 'desc' }, take: 50 });
  }

  /** Provisioning and active sessions: of one learner (oldest first, for the caps), or all. */
  live(learnerId?: string): Promise<SessionRow[]> {
    return this.db.session.findMany({ where: { learnerId, status: { in: LIVE_STATUSES } }, orderBy: { createdAt: 'asc' } });
  }

  active(): Promise<SessionRow[]> {
    return this.db.session.findMany({ where: { status: 'active' } });
  }

  progressOf(sessionId: string) {
    return this.db.challengeProgress.findMany({ where: { sessionId } });
  }

  progressAt(sessionId: string, index: number) {
    return this.db.challengeProgress.findUnique({ where: { sessionId_index: { sessionId, index } } });
  }

  /** A new session (`provisioning`) with a locked row per challenge; the lab's row is kept current. */
  async create(id: string, lab: Lab, learnerId: string, vars: Record<string, string>): Promise<void> {
    const { slug, title, environment } = lab.track;
    await this.db.lab.upsert({
      where: { slug },
      create: { slug, title, driver: environment.driver, digest: '' },
      update: { title, driver: environment.driver },
    });
    await this.db.session.create({
      data: {
        id,
        labSlug: slug,
        learnerId,
        status: 'provisioning',
        variables: JSON.stringify(vars),
        challenges: { create: lab.challenges.map((c) => ({ index: c.index, slug: c.slug })) },
      },
    });
  }

  /** Provisioning steps; only while provisioning, so a late save cannot touch an ended session. */
  saveSteps(id: string, steps: ProgressStep[]) {
    return this.db.session.updateMany({ where: { id, status: 'provisioning' }, data: { progress: JSON.stringify(steps) } });
  }

  async setEnvironment(id: string, env: Environment, { touch = false } = {}): Promise<void> {
    await this.db.session.update({ where: { id }, data: { environment: JSON.stringify(env), ...(touch ? { lastActiveAt: this.now() } : {}) } });
  }

  /** Provisioning done: the session is active on challenge `index` and its clock runs. */
  async activate(id: string, lab: Lab, index: number, steps: ProgressStep[]): Promise<void> {
    const now = this.now();
    await this.db.$transaction([
      this.db.session.update({
        where: { id },
        data: {
          status: 'active',
          startedAt: now,
          lastActiveAt: now,
          expiresAt: new Date(now.getTime() + lab.track.timelimit * 1000),
          progress: JSON.stringify(steps),
          currentIndex: index,
        },
      }),
      this.challengeStarted(id, index, now),
    ]);
  }

  // ---- who prepares a session (several replicas: lib/jobs, lib/replicas) ----

  /** The job queue's id of the job preparing it. */
  async setProvisionJob(id: string, job: string): Promise<void> {
    await this.db.session.update({ where: { id }, data: { provisionJob: job } });
  }

  /** Claims a session waiting to be prepared for `replica`; false when it is not waiting (claimed, ended, gone). */
  async claim(id: string, replica: string): Promise<boolean> {
    const { count } = await this.db.session.updateMany({ where: { id, status: 'provisioning', replicaId: null }, data: { replicaId: replica } });
    return count === 1;
  }

  /** Drops the claim of replica `from`; false when another replica dropped it first, or the session is no longer being prepared. */
  async dropClaim(id: string, from: string): Promise<boolean> {
    const { count } = await this.db.session.updateMany({ where: { id, status: 'provisioning', replicaId: from }, data: { replicaId: null } });
    return count === 1;
  }

  /** A new attempt starts from nothing: no environment recorded, no steps. */
  async restartPreparation(id: string): Promise<void> {
    await this.db.session.update({ where: { id }, data: { environment: null, progress: '[]' } });
  }

  /** Sessions being prepared by a replica not in `live`. */
  preparedByGone(live: Set<string>): Promise<SessionRow[]> {
    return this.db.session.findMany({ where: { status: 'provisioning', replicaId: { not: null, notIn: [...live] } } });
  }

  /** Sessions no replica has claimed yet, started before `before`. */
  unclaimedSince(before: Date): Promise<SessionRow[]> {
    return this.db.session.findMany({ where: { status: 'provisioning', replicaId: null, createdAt: { lt: before } } });
  }

  /** How many unclaimed sessions were started before `createdAt` (a waiting session's place). */
  unclaimedAhead(createdAt: Date): Promise<number> {
    return this.db.session.count({ where: { status: 'provisioning', replicaId: null, createdAt: { lt: createdAt } } });
  }

  async setCurrent(id: string, index: number): Promise<void> {
    await this.db.session.update({ where: { id }, data: { currentIndex: index } });
  }

  async markChallenge(sessionId: string, index: number, status: string): Promise<void> {
    await this.db.challengeProgress.update({ where: { sessionId_index: { sessionId, index } }, data: { status } });
  }

  /** A challenge's setup passed: the learner is on it from now. */
  async startChallenge(sessionId: string, index: number): Promise<void> {
    await this.challengeStarted(sessionId, index, this.now());
  }

  private challengeStarted(sessionId: string, index: number, at: Date) {
    return this.db.challengeProgress.update({ where: { sessionId_index: { sessionId, index } }, data: { status: 'active', startedAt: at } });
  }

  async touch(id: string): Promise<void> {
    await this.db.session.updateMany({ where: { id }, data: { lastActiveAt: this.now() } });
  }

  /** `counted`: the extension uses up the learner's one (an instructor's does not). */
  async extend(id: string, expiresAt: Date, counted = true): Promise<void> {
    await this.db.session.update({ where: { id }, data: { expiresAt, extensions: counted ? { increment: 1 } : undefined, lastActiveAt: this.now() } });
  }

  /** The end and its `session.<status>` event in one transaction: webhooks (lib/webhooks) read the event, so neither is lost without the other. */
  /**
   * Ends a live session with its `session.<status>` event, in one transaction; false when it had
   * ended already. A session ends once: a Stop and a failing preparation racing each other (the
   * preparation read the row before the Stop wrote it) leave the first end, not the last.
   */
  async end(id: string, status: SessionStatus, error?: string): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const ended = await tx.session.updateMany({ where: { id, status: { in: LIVE_STATUSES } }, data: { status, endedAt: this.now(), error } });
      if (ended.count === 0) return false;
      await tx.event.create({ data: { sessionId: id, type: `session.${status}`, data: JSON.stringify(error ? { error } : {}) } });
      return true;
    });
  }

  /**
   * A check's verdict and output as a CheckRun, the try counted on the challenge (completed if it
   * passed), all in one transaction: a quiz's tries are counted from here, so a restarted server
   * hands out no fresh ones. Stored output is bounded per run and per session (check-output.ts);
   * the verdict is not. The verdict's `challenge.passed` / `challenge.failed` event (what webhooks
   * send) is written in the same transaction. Call under the session's lock (the budget is summed,
   * then written; the score is counted, then written).
   */
  async recordCheck(
    row: SessionRow,
    run: { challenge: string; kind: 'quiz' | 'check'; verdict: Verdict; durationMs: number },
    limits: CheckOutputLimits = CHECK_OUTPUT,
  ): Promise<void> {
    const { passed, message } = run.verdict;
    const dropped = droppedOutput(limits.perSession);
    let output = storedOutput(run.verdict.output, limits.perRun);
    const room = await outputToDrop(this.db, row.id, output.length, limits);
    if (!room.fits) output = dropped;
    const verdictEvent = await this.checkEvent(row, run.challenge, run.verdict);
    await this.db.$transaction([
      ...room.drop.map((runId) => this.db.checkRun.update({ where: { id: runId }, data: { output: dropped } })),
      this.db.checkRun.create({ data: { sessionId: row.id, challenge: run.challenge, kind: run.kind, passed, message, output, durationMs: run.durationMs } }),
      this.db.event.create({ data: verdictEvent }),
      this.db.challengeProgress.update({
        where: { sessionId_index: { sessionId: row.id, index: row.currentIndex } },
        data: { attempts: { increment: 1 }, ...(passed ? { status: 'completed', completedAt: this.now() } : {}) },
      }),
      this.db.session.update({ where: { id: row.id }, data: { lastActiveAt: this.now() } }),
    ]);
  }

  /** The verdict as an event: the try's number and the score as they are once this check is stored. */
  private async checkEvent(row: SessionRow, challenge: string, { passed, message }: Verdict) {
    const progress = await this.progressOf(row.id);
    const current = progress.find((p) => p.index === row.currentIndex);
    const others = progress.filter((p) => p.status === 'completed' && p.index !== row.currentIndex).length;
    const score = { passed: others + (passed || current?.status === 'completed' ? 1 : 0), total: progress.length };
    const data = { challenge, index: row.currentIndex, attempts: (current?.attempts ?? 0) + 1, score, ...(passed ? {} : { message }) };
    return { sessionId: row.id, type: passed ? 'challenge.passed' : 'challenge.failed', data: JSON.stringify(data) };
  }

  /**
   * Records what happened to one host (hosts.ts) and logs it as an event. Call under the session's
   * lock: it reads the row, changes one host and writes the record back.
   */
  async changeHost(sessionId: string, host: string, change: Parameters<typeof updateHost>[2]): Promise<void> {
    const row = await this.db.session.findUnique({ where: { id: sessionId }, select: { hosts: true } });
    if (!row) return;
    const hosts = updateHost(parseHosts(row.hosts), host, change, this.now());
    await this.db.session.update({ where: { id: sessionId }, data: { hosts: JSON.stringify(hosts) } });
    if (change.notice || change.state) await this.event(sessionId, 'host', { host, state: change.state, ...change.notice });
  }

  /** The audit log; losing an entry never fails what it records. */
  async event(sessionId: string, type: string, data: object): Promise<void> {
    await this.db.event.create({ data: { sessionId, type, data: JSON.stringify(data) } }).catch(() => undefined);
  }
}
