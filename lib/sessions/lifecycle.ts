/**
 * Running a lab's lifecycle scripts for a session: track setup, challenge
 * setup/cleanup, and the check (scripts, then the declarative grade).
 * Decides nothing about session state; service.ts does that.
 */
import type { Environment, EnvironmentDriver } from '../environments/driver';
import type { Challenge, Lab, ScriptKind } from '../labs/schema';
import { runPhase, type PhaseResult, type ScriptsMap } from '../checks/scripts';
import { gradeFromHost } from '../checks/grade';

export interface Verdict {
  passed: boolean;
  message: string;
  /** Every script's output, for instructors (never sent to learners). */
  output: unknown[];
  durationMs: number;
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

  private phase(scripts: ScriptsMap, kind: ScriptKind): Promise<PhaseResult> {
    return runPhase(this.driver, this.env, scripts, kind, this.hostOrder, this.timeoutMs(kind), this.vars);
  }

  async trackSetup(): Promise<PhaseResult> {
    return this.phase(this.lab.trackScripts, 'setup');
  }

  async challenge(c: Challenge, kind: Exclude<ScriptKind, 'check'>): Promise<PhaseResult> {
    return this.phase(c.scripts, kind);
  }

  /** Check scripts in host order, stopping at the first failure; then the grade, if declared. */
  async check(c: Challenge): Promise<Verdict> {
    const started = Date.now();
    const result = await this.phase(c.scripts, 'check');
    if (!result.ok) {
      return { passed: false, message: phaseMessage(result), output: result.runs, durationMs: Date.now() - started };
    }
    if (c.grade) {
      const graded = await gradeFromHost(this.driver, this.env, c.grade, this.vars);
      return { passed: graded.passed, message: graded.message, output: [...result.runs, graded], durationMs: Date.now() - started };
    }
    return { passed: true, message: passMessage(c), output: result.runs, durationMs: Date.now() - started };
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
