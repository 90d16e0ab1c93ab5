/**
 * Running a lab's lifecycle scripts for a session: track setup, challenge
 * setup/cleanup, and the check (scripts, injections, then the declarative grade).
 * Decides nothing about session state; commands.ts and provisioning.ts do that.
 */
import type { Environment, EnvironmentDriver } from '../environments/driver';
import type { Challenge, Injection, Lab, ScriptKind } from '../labs/schema';
import { PARALLEL_SCRIPTS, runPhase, type PhaseResult, type ScriptsMap } from '../checks/scripts';
import { gradeFromHost } from '../checks/grade';
import { scopedVariables } from '../checks/variables';
import { TRACK_SCOPE } from '../labs/variable-uses';
import { runInjections, type InjectionRun } from '../checks/inject';

export interface Verdict {
  passed: boolean;
  message: string;
  /** Every script's output, for instructors (never sent to learners). */
  output: unknown[];
}

export class Lifecycle {
  constructor(
    private driver: EnvironmentDriver,
    private lab: Lab,
    private env: Environment,
    private vars: Record<string, string>,
  ) {}

  private get hostOrder() {
    return this.lab.track.environment.hosts.map((h) => h.name);
  }

  private timeoutMs(kind: ScriptKind) {
    return this.lab.track.timeouts[kind] * 1000;
  }

  /** `scope`: the challenge's slug, or TRACK_SCOPE, for the variables' `scripts:` scopes. */
  private phase(scripts: ScriptsMap, kind: ScriptKind, scope: string): Promise<PhaseResult> {
    const varsFor = (host: string) => scopedVariables(this.lab.track.variables, this.vars, kind, host, scope);
    // Setup scripts of independent hosts (the lab says so) run at once; everything else in host order.
    const concurrency = kind === 'setup' && this.lab.track.parallel_setup ? PARALLEL_SCRIPTS : 1;
    return runPhase(this.driver, this.env, scripts, kind, this.hostOrder, this.timeoutMs(kind), varsFor, concurrency);
  }

  async trackSetup(): Promise<PhaseResult> {
    return this.phase(this.lab.trackScripts, 'setup', TRACK_SCOPE);
  }

  /** A challenge's scripts of one kind; a setup that passed is followed by its `when: enter` injections. */
  async challenge(c: Challenge, kind: Exclude<ScriptKind, 'check'>): Promise<PhaseResult> {
    const result = await this.phase(c.scripts, kind, c.slug);
    if (kind !== 'setup' || !result.ok) return result;
    const failed = (await this.inject(c, 'enter')).find((r) => !r.ok);
    if (!failed) return result;
    return {
      ok: false,
      runs: result.runs,
      failure: { host: 'platform', script: `inject ${failed.to}`, message: `sending to ${failed.to} failed: ${failed.error}` },
    };
  }

  private inject(c: Challenge, when: Injection['when']): Promise<InjectionRun[]> {
    return runInjections(
      this.driver,
      this.env,
      c.inject.filter((i) => i.when === when),
      this.vars,
    );
  }

  /**
   * Check scripts in host order, stopping at the first failure; then the `when: check`
   * injections (so a listener the checks found receives them); then the grade, if declared.
   */
  async check(c: Challenge): Promise<Verdict> {
    const done = (passed: boolean, message: string, output: unknown[]): Verdict => ({ passed, message, output });
    const result = await this.phase(c.scripts, 'check', c.slug);
    if (!result.ok) return done(false, phaseMessage(result), result.runs);
    const sent = await this.inject(c, 'check');
    const output: unknown[] = [...result.runs, ...sent.map((r) => ({ inject: r }))];
    const failedSend = sent.find((r) => !r.ok);
    if (failedSend)
      return done(false, `The lab could not send its message to ${failedSend.to}; press Check again, and tell your instructor if it keeps happening.`, output);
    if (!c.grade) return done(true, passMessage(c), output);
    const graded = await gradeFromHost(this.driver, this.env, c.grade, this.vars);
    const notice = graded.passed
      ? ''
      : c.inject
          .filter((i) => i.when === 'check' && i.notice)
          .map((i) => i.notice)
          .join(' ');
    return done(graded.passed, notice ? `${notice} ${graded.message}` : graded.message, [...output, graded]);
  }
}

function passMessage(c: Challenge) {
  return `Well done: "${c.title}" is complete.`;
}

/** The learner-facing message of a failed phase (its first failing script's). */
export function phaseMessage(result: PhaseResult): string {
  return result.failure?.message ?? 'ok';
}

/** Human summary of a failed setup phase, for the session's error field. */
export function setupFailure(what: string, result: PhaseResult): string {
  return `${what} failed: ${phaseMessage(result)}`;
}
