/**
 * Readiness: whether this replica should be sent learners now (GET /readyz). It is when every
 * dependency it cannot work without answers (the database can be written, the container engine
 * answers) and it is not shutting down. Liveness (GET /healthz) is not this: a replica whose
 * database is down is alive and must not be restarted for it, only taken out of rotation.
 *
 * Each check is bounded in time (a dependency that hangs is a failing one) and the whole report
 * is reused for a moment, since /readyz is public and every check does I/O.
 */
import { withTimeout } from '../base/timeout';

export interface CheckOutcome {
  ok: boolean;
  /** Why not, in words safe for anyone: no paths, no addresses. */
  reason?: string;
  /** Why not, for operators: the dependency's own message (paths, errno). */
  detail?: string;
}

/** Resolves to the dependency's condition; a throw counts as a failure whose message is the detail. */
export type DependencyCheck = () => Promise<CheckOutcome>;

export interface ReadinessReport {
  ready: boolean;
  /** Every dependency by name, ok or not, with what it took. */
  checks: Record<string, CheckOutcome & { ms: number }>;
  /** The failing ones, for a reader who wants only those. */
  failing: Array<{ dependency: string; reason: string; detail?: string }>;
}

export interface ReadinessOptions {
  /** A check that takes longer fails (default 2 s: under a probe's usual timeout). */
  timeoutMs?: number;
  /** A report is reused this long (default 1 s). */
  maxAgeMs?: number;
  now?: () => number;
}

export const SHUTTING_DOWN = 'the server is shutting down';

export class Readiness {
  private closing = false;
  private last?: { at: number; report: Promise<ReadinessReport> };

  constructor(
    private readonly checks: Record<string, DependencyCheck>,
    private readonly opts: ReadinessOptions = {},
  ) {}

  /** From now on the replica is not ready: load balancers stop sending it requests while it drains. */
  shuttingDown(): void {
    this.closing = true;
  }

  async report(): Promise<ReadinessReport> {
    const now = this.opts.now ?? Date.now;
    const maxAge = this.opts.maxAgeMs ?? 1000;
    if (!this.last || now() - this.last.at >= maxAge) this.last = { at: now(), report: this.run(now) };
    const report = await this.last.report;
    // Shutting down is known at once, whatever the cached report says.
    return this.closing ? withServer(report, { ok: false, reason: SHUTTING_DOWN, ms: 0 }) : withServer(report, { ok: true, ms: 0 });
  }

  private async run(now: () => number): Promise<ReadinessReport> {
    const timeoutMs = this.opts.timeoutMs ?? 2000;
    const entries = await Promise.all(
      Object.entries(this.checks).map(async ([name, check]) => {
        const t = now();
        const outcome = await withTimeout(check(), timeoutMs, name).catch((e: unknown): CheckOutcome => ({
          ok: false,
          reason: `${name} does not answer`,
          detail: message(e),
        }));
        return [name, { ...outcome, ms: now() - t }] as const;
      }),
    );
    return summarize(Object.fromEntries(entries));
  }
}

function withServer(report: ReadinessReport, server: CheckOutcome & { ms: number }): ReadinessReport {
  return summarize({ ...report.checks, server });
}

function summarize(checks: ReadinessReport['checks']): ReadinessReport {
  const failing = Object.entries(checks)
    .filter(([, c]) => !c.ok)
    .map(([dependency, c]) => ({ dependency, reason: c.reason ?? 'not ready', ...(c.detail ? { detail: c.detail } : {}) }));
  return { ready: failing.length === 0, checks, failing };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).trim().split('\n')[0].slice(0, 300);

/** The public view of a report: operators' details removed. */
export function publicReport(report: ReadinessReport): ReadinessReport {
  const strip = <T extends { detail?: string }>(c: T): Omit<T, 'detail'> => {
    const rest = { ...c };
    delete rest.detail;
    return rest;
  };
  return {
    ready: report.ready,
    checks: Object.fromEntries(Object.entries(report.checks).map(([k, c]) => [k, strip(c)])),
    failing: report.failing.map(strip),
  };
}
