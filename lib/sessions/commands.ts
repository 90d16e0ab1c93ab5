/**
 * What a learner does in a running session: Check, Next, Stop, Extend. Each runs under the
 * session's lock, so two of them (two browser tabs) never interleave.
 */
import type { SessionRow } from '../db/client';
import type { Lab } from '../labs/schema';
import type { SessionContext } from './context';
import { SessionError } from './errors';
import { postMessage, type LearnerMessage } from './messages';
import type { HostWatch } from './host-watch';
import type { SessionQueries } from './queries';
import { QuizRefusal, Runbook, RunbookError } from './runbook';
import { LIVE_STATUSES, type SessionStatus, type SessionView } from './view';

/** One extension of the time limit, of this length, per session (an instructor may add more). */
export const EXTENSION_MS = 15 * 60_000;
const MAX_EXTENSIONS = 1;
/** Who asked: the learner has one extension; an instructor's do not use it up. */
export type ExtendedBy = 'learner' | 'instructor';

export interface CheckResult {
  passed: boolean;
  message: string;
}

export class SessionCommands {
  constructor(
    private ctx: SessionContext,
    private hosts: HostWatch,
    private queries: SessionQueries,
  ) {}

  async check(id: string, learnerId: string, body: { answers?: number[] } = {}): Promise<CheckResult> {
    return this.ctx.lock.run(id, async () => {
      const { row, lab } = await this.activeWithHostsUp(id, learnerId);
      const challenge = lab.challenges[row.currentIndex];
      const started = Date.now();
      // Quiz tries are counted in the database (repository.ts recordCheck), so a restarted server hands out no fresh ones.
      const triesUsed = challenge.type === 'quiz' ? ((await this.ctx.repo.progressAt(id, row.currentIndex))?.attempts ?? 0) : 0;
      // Scripts run within the server-wide limit of Checks at once (a quiz runs none: it does not queue).
      const limiter = challenge.type === 'quiz' ? undefined : this.ctx.deps.checkLimiter;
      const grade = () => this.runbook(row, lab).check(row.currentIndex, body.answers, triesUsed);
      const observed = (result: 'passed' | 'failed' | 'error') =>
        this.ctx.deps.observer?.checked({ lab: lab.track.slug, challenge: challenge.slug, result, ms: Date.now() - started });
      const verdict = await (limiter ? limiter.run(grade, { id: `check:${id}` }) : grade()).catch((e: unknown) => {
        // A refused quiz answer was never judged; anything else is a Check that could not run.
        if (e instanceof QuizRefusal) throw new SessionError(e.why === 'exhausted' ? 'conflict' : 'invalid', e.message);
        observed('error');
        throw e;
      });
      observed(verdict.passed ? 'passed' : 'failed');
      const kind = challenge.type === 'quiz' ? 'quiz' : 'check';
      await this.ctx.repo.recordCheck(row, { challenge: challenge.slug, kind, verdict, durationMs: Date.now() - started }, this.ctx.deps.checkOutput);
      this.ctx.log.info({ session: id, challenge: challenge.slug, passed: verdict.passed }, 'check');
      return { passed: verdict.passed, message: verdict.message };
    });
  }

  /** Moves to the next challenge (cleanup, then the next one's setup). After the last one the session completes. */
  async next(id: string, learnerId: string): Promise<SessionView> {
    const { repo, log } = this.ctx;
    return this.ctx.lock.run(id, async () => {
      const { row, lab } = await this.activeWithHostsUp(id, learnerId);
      const progress = await repo.progressAt(id, row.currentIndex);
      const current = lab.challenges[row.currentIndex];
      await repo.touch(id);
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
      if (skip) await repo.markChallenge(id, row.currentIndex, 'skipped');
      else if (quizOver && progress?.status !== 'completed') await repo.markChallenge(id, row.currentIndex, 'failed');
      // A learner moving on is not held back by a cleanup script; `labforge test` is where authors see it fail.
      if (!cleanup.ok) log.warn({ session: id, challenge: current.slug }, 'cleanup script failed; continuing');
      const nextIndex = row.currentIndex + 1;
      if (nextIndex >= lab.challenges.length) {
        await this.ctx.ending.end(row, lab, 'completed');
      } else {
        await this.enterChallenge(row, lab, nextIndex);
      }
      return this.queries.get(id, learnerId);
    });
  }

  async stop(id: string, learnerId: string): Promise<void> {
    await this.ctx.lock.run(id, async () => {
      const { row, lab } = await this.ctx.guards.owned(id, learnerId);
      if (!LIVE_STATUSES.includes(row.status as SessionStatus)) return;
      await this.ctx.ending.end(row, lab, 'stopped');
    });
  }

  /** Adds EXTENSION_MS to the time limit: once per session for the learner, as often as an instructor asks. */
  async extend(id: string, learnerId: string, by: ExtendedBy = 'learner'): Promise<SessionView> {
    return this.ctx.lock.run(id, async () => {
      const { row } = await this.ctx.guards.owned(id, learnerId);
      this.ctx.guards.requireActive(row);
      if (by === 'learner' && row.extensions >= MAX_EXTENSIONS) throw new SessionError('conflict', 'this session was already extended once');
      const base = Math.max(row.expiresAt?.getTime() ?? 0, this.ctx.now().getTime());
      await this.ctx.repo.extend(id, new Date(base + EXTENSION_MS), by === 'learner');
      await this.ctx.repo.event(id, 'session.extended', { by });
      return this.queries.get(id, learnerId);
    });
  }

  /** A message from an instructor, shown on the learner's page while the session is live. */
  async message(id: string, learnerId: string, text: string, from: string): Promise<LearnerMessage> {
    return this.ctx.lock.run(id, async () => {
      const { row } = await this.ctx.guards.owned(id, learnerId);
      if (!LIVE_STATUSES.includes(row.status as SessionStatus))
        throw new SessionError('conflict', `this session is ${row.status}: no one would read the message`);
      return postMessage(this.ctx.deps.db, id, text, from);
    });
  }

  /** Check and Next run scripts in the hosts: the session must be active and its hosts running. */
  private async activeWithHostsUp(id: string, learnerId: string): Promise<{ row: SessionRow; lab: Lab }> {
    const { row, lab } = await this.ctx.guards.owned(id, learnerId);
    this.ctx.guards.requireActive(row);
    await this.hosts.requireHostsUp(row, lab);
    return { row, lab };
  }

  private async enterChallenge(row: SessionRow, lab: Lab, index: number) {
    const { repo } = this.ctx;
    await repo.markChallenge(row.id, index, 'setting-up');
    await repo.setCurrent(row.id, index);
    try {
      await this.runbook(row, lab).enter(index);
    } catch (e) {
      if (!(e instanceof RunbookError)) throw e;
      await repo.markChallenge(row.id, index, 'failed');
      throw new SessionError('unavailable', e.message);
    }
    await repo.startChallenge(row.id, index);
    await repo.event(row.id, 'challenge.entered', { challenge: lab.challenges[index].slug });
  }

  /** The challenge walk over this session's environment and variables (see runbook.ts). */
  private runbook(row: SessionRow, lab: Lab): Runbook {
    return Runbook.of(this.ctx.guards.driverFor(lab), lab, this.ctx.guards.environmentOf(row), JSON.parse(row.variables) as Record<string, string>);
  }
}
