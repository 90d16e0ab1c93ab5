/**
 * The challenge walk, written once: which lifecycle scripts run, in which order, when a lab's
 * environment is prepared, a challenge entered, checked, left or skipped, or a session started
 * part-way (author mode). Sessions (commands.ts, provisioning.ts), `labforge test` (authoring/labtest.ts) and the
 * warm pool's pre-setup (server.ts) all walk a lab through here: each used to write the walk
 * itself, and they drifted apart (`labforge test` never ran cleanup scripts, sessions did).
 *
 * Lifecycle runs the scripts; the callers keep state (database rows, report cells, progress
 * steps) and policy where they differ on purpose (a failed cleanup only warns a learner moving
 * on, but fails the challenge in `labforge test`).
 */
import type { Environment, EnvironmentDriver } from '../environments/driver';
import type { Challenge, Lab } from '../labs/schema';
import type { PhaseResult } from '../checks/scripts';
import { gradeQuiz } from '../checks/quiz';
import { Lifecycle, phaseMessage, setupFailure, type Verdict } from './lifecycle';

/** What the walk needs of Lifecycle: its public API, and a seam for tests. */
export type Steps = Pick<Lifecycle, 'trackSetup' | 'challenge' | 'check'>;

/**
 * A script phase that failed and stops the walk. `message` is what a session shows (and stores as
 * its error), e.g. `setup of "X" failed: <reason>`; `reason` is the script's own message alone,
 * which is what a `labforge test` report cell shows.
 */
export class RunbookError extends Error {
  readonly reason: string;
  constructor(
    message: string,
    readonly phase: PhaseResult,
  ) {
    super(message);
    this.name = 'RunbookError';
    this.reason = phaseMessage(phase);
  }
}

/** A quiz try refused before grading: `invalid` (a malformed pick) or `exhausted` (no attempts left). */
export class QuizRefusal extends Error {
  constructor(
    readonly why: 'invalid' | 'exhausted',
    message: string,
  ) {
    super(message);
    this.name = 'QuizRefusal';
  }
}

/**
 * Wraps each challenge of a startAt(): an earlier one replayed, then the target entered.
 * Lets a session time each as a progress step and record the earlier ones as skipped.
 */
export type Around = (c: Challenge, what: 'replay' | 'enter', run: () => Promise<void>) => Promise<void>;

export class Runbook {
  constructor(
    private lab: Lab,
    private life: Steps,
  ) {}

  /** A runbook over a real Lifecycle: the scripts of `lab` run in `env` with `vars`. */
  static of(driver: EnvironmentDriver, lab: Lab, env: Environment, vars: Record<string, string>): Runbook {
    return new Runbook(lab, new Lifecycle(driver, lab, env, vars));
  }

  challengeAt(index: number): Challenge {
    const c = this.lab.challenges[index];
    if (!c) throw new Error(`lab "${this.lab.track.slug}" has no challenge ${index + 1}`);
    return c;
  }

  /** Track setup: once per environment, before any challenge (for a pool member, when it is filled). */
  async prepare(): Promise<void> {
    await this.must(this.life.trackSetup(), 'track setup');
  }

  /** A challenge's setup scripts: the learner (or the test) starts on it next. */
  async enter(index: number): Promise<void> {
    const c = this.challengeAt(index);
    await this.must(this.life.challenge(c, 'setup'), `setup of "${c.title}"`);
  }

  /** A challenge's solve scripts: what skipping, author mode and `labforge test` do instead of the learner. */
  async solve(index: number): Promise<void> {
    const c = this.challengeAt(index);
    await this.must(this.life.challenge(c, 'solve'), `solve of "${c.title}"`);
  }

  /**
   * The verdict on a challenge: its check scripts, injections and grade, or for a quiz the
   * `answers` picked (`triesUsed`: the tries already on record, for a quiz's `attempts:` cap).
   * Never throws for a failing check: a failure is a verdict. Throws QuizRefusal for a quiz try
   * that is not one (nothing picked, no attempts left): it must not be counted.
   */
  async check(index: number, answers?: number[], triesUsed = 0): Promise<Verdict> {
    const c = this.challengeAt(index);
    if (c.type !== 'quiz') return this.life.check(c);
    if (!Array.isArray(answers)) throw new QuizRefusal('invalid', 'this challenge is a quiz: send {"answers": [index, ...]}');
    const cap = c.attempts;
    if (cap && triesUsed >= cap) throw new QuizRefusal('exhausted', `no attempts left for this quiz (${cap} allowed)`);
    const v = gradeQuiz(c, answers, cap ? { attemptsLeft: cap - triesUsed - 1 } : {});
    if (!v.graded) throw new QuizRefusal('invalid', v.message);
    // What was picked goes on record with the verdict.
    return { passed: v.passed, message: v.message, output: [{ selected: answers }] };
  }

  /**
   * Leaves a challenge for the next one. Skipping first solves it, so later challenges find the
   * state they build on (a failed solve throws, nothing is cleaned up). Then its cleanup scripts
   * run; their result is returned, not thrown, because callers differ on what a failure means.
   */
  async leave(index: number, opts: { skip?: boolean } = {}): Promise<PhaseResult> {
    const c = this.challengeAt(index);
    if (opts.skip) {
      const solved = await this.life.challenge(c, 'solve');
      if (!solved.ok) throw new RunbookError(`could not skip "${c.title}": ${setupFailure('solve', solved)}`, solved);
    }
    return this.life.challenge(c, 'cleanup');
  }

  /**
   * Author mode: each challenge before `index`, in order, is set up, solved and cleaned up (any
   * failure stops: what follows would build on broken state), then challenge `index` is entered.
   * startAt(0) is just enter(0). Track setup is not included: call prepare() first unless done.
   */
  async startAt(index: number, around: Around = (_c, _what, run) => run()): Promise<void> {
    const target = this.challengeAt(index);
    for (const c of this.lab.challenges.slice(0, index)) {
      await around(c, 'replay', async () => {
        for (const kind of ['setup', 'solve', 'cleanup'] as const) {
          await this.must(this.life.challenge(c, kind), `${kind} of "${c.title}"`);
        }
      });
    }
    await around(target, 'enter', () => this.enter(index));
  }

  private async must(pending: Promise<PhaseResult>, what: string): Promise<PhaseResult> {
    const r = await pending;
    if (!r.ok) throw new RunbookError(setupFailure(what, r), r);
    return r;
  }
}
