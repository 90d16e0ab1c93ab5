/**
 * `labforge test <lab>`: proves a lab works, the way `instruqt track test` does.
 * On one fresh environment, after track setup, for each challenge in order:
 * setup, check (must fail), solve, check (must pass), cleanup (must pass); a checked
 * challenge without solve scripts stops at solve, reported as MISSING. Quizzes:
 * a wrong answer must fail, the solution must pass. The walk is the sessions' own
 * (sessions/runbook.ts), so what passes here is what learners get. The report
 * renders as a table or JUnit XML; the command itself is cli/commands/test.ts.
 */
import crypto from 'node:crypto';
import type { EnvironmentDriver, Environment } from '../environments/driver';
import type { Challenge, Lab } from '../labs/schema';
import { generateVariables } from '../checks/variables';
import { phaseMessage } from '../sessions/lifecycle';
import { Runbook, RunbookError } from '../sessions/runbook';

export interface StepResult {
  ok: boolean;
  ms: number;
  message: string;
  /** The step could not run because the lab lacks what it needs (no solve script): not a broken script. */
  missing?: true;
}

/** The steps of one challenge, in the order they run: the report's columns. */
export const STEPS = ['setup', 'checkFails', 'solve', 'checkPasses', 'cleanup'] as const;

export interface ChallengeResult {
  index: number;
  slug: string;
  title: string;
  ok: boolean;
  setup?: StepResult;
  checkFails?: StepResult;
  solve?: StepResult;
  checkPasses?: StepResult;
  /** Runs once the check passed; a failing cleanup fails the challenge (sessions only warn). */
  cleanup?: StepResult;
}

export interface LabTestReport {
  lab: string;
  ok: boolean;
  environment: StepResult;
  trackSetup?: StepResult;
  challenges: ChallengeResult[];
  totalMs: number;
}

const OK = { ok: true, message: 'ok' };

async function step(fn: () => Promise<{ ok: boolean; message: string }>): Promise<StepResult> {
  const t = Date.now();
  try {
    const r = await fn();
    return { ...r, ms: Date.now() - t };
  } catch (e) {
    // A cell shows the script's own message; the session-style "setup of ... failed:" adds nothing here.
    const message = e instanceof RunbookError ? e.reason : (e as Error).message;
    return { ok: false, message, ms: Date.now() - t };
  }
}

async function testChallenge(book: Runbook, c: Challenge): Promise<ChallengeResult> {
  const r: ChallengeResult = { index: c.index, slug: c.slug, title: c.title, ok: false };
  r.setup = await step(async () => {
    await book.enter(c.index);
    return OK;
  });
  if (!r.setup.ok) return r;
  if (c.type === 'quiz') {
    const wrong = (c.answers ?? []).map((_, i) => i).filter((i) => !c.solution?.includes(i));
    r.checkFails = await step(async () => {
      const v = await book.check(c.index, wrong);
      return { ok: !v.passed, message: v.passed ? 'a wrong answer was accepted' : v.message };
    });
    r.solve = { ok: true, ms: 0, message: 'uses the solution indexes' };
    r.checkPasses = await step(async () => {
      const v = await book.check(c.index, c.solution ?? []);
      return { ok: v.passed, message: v.message };
    });
  } else {
    const checked = Boolean(c.grade) || Object.keys(c.scripts.check ?? {}).length > 0;
    r.checkFails = await step(async () => {
      const v = await book.check(c.index);
      return { ok: !v.passed, message: v.passed ? 'check passed before the work was done' : v.message };
    });
    // Without a solve the check would fail below as if it were broken: say what is missing instead.
    if (checked && !Object.keys(c.scripts.solve ?? {}).length) {
      r.solve = { ok: false, ms: 0, missing: true, message: missingSolve(c) };
      return r;
    }
    r.solve = await step(async () => {
      await book.solve(c.index);
      return OK;
    });
    if (!r.solve.ok) return r;
    r.checkPasses = await step(async () => {
      // A check may need more than one run (e.g. the exam: the first run sends the message).
      let v = await book.check(c.index);
      for (let i = 0; i < 2 && !v.passed; i++) {
        // A failing re-solve is not the verdict: the check after it is.
        await book.solve(c.index).catch(() => undefined);
        v = await book.check(c.index);
      }
      return { ok: v.passed, message: v.message };
    });
  }
  // Cleanup runs on the solved state, as it does when a learner moves on.
  if (!r.checkPasses?.ok) return r;
  r.cleanup = await step(async () => {
    const p = await book.leave(c.index);
    return { ok: p.ok, message: p.ok ? 'ok' : phaseMessage(p) };
  });
  r.ok = STEPS.every((k) => r[k]?.ok);
  return r;
}

/** Names the script to add: `solve-workstation` when one host checks, `solve-<host>` otherwise. */
export function missingSolve(c: Challenge): string {
  const hosts = Object.keys(c.scripts.check ?? {});
  return `no solve-${hosts.length === 1 ? hosts[0] : '<host>'} script: cannot prove the check can pass`;
}

export async function testLab(lab: Lab, driver: EnvironmentDriver, onLine: (s: string) => void = () => {}): Promise<LabTestReport> {
  const started = Date.now();
  const owner = `test-${crypto.randomBytes(4).toString('hex')}`;
  const vars = generateVariables(lab.track.variables);
  const report: LabTestReport = { lab: lab.track.slug, ok: false, environment: { ok: false, ms: 0, message: '' }, challenges: [], totalMs: 0 };
  let env: Environment | undefined;
  try {
    report.environment = await step(async () => {
      env = await driver.create({ owner, lab: lab.track.slug, labRoot: lab.root, environment: lab.track.environment }, (p) =>
        p.status === 'done' ? onLine(`  ${p.step} (${((p.ms ?? 0) / 1000).toFixed(1)} s)`) : undefined,
      );
      return { ok: true, message: `${env.hosts.length} hosts` };
    });
    if (!env) return report;
    const book = Runbook.of(driver, lab, env, vars);
    report.trackSetup = await step(async () => {
      await book.prepare();
      return OK;
    });
    if (!report.trackSetup.ok) return report;
    for (const c of lab.challenges) {
      const r = await testChallenge(book, c);
      report.challenges.push(r);
      onLine(`  ${r.ok ? 'PASS' : 'FAIL'} ${c.index + 1}. ${c.title}`);
      if (!r.ok) break; // later challenges build on this one
    }
    report.ok = report.challenges.length === lab.challenges.length && report.challenges.every((c) => c.ok);
    return report;
  } finally {
    if (env) await driver.destroy(env).catch(() => undefined);
    else await driver.destroyOwner(owner).catch(() => undefined);
    report.totalMs = Date.now() - started;
  }
}

const cell = (s?: StepResult) => (!s ? '—' : s.ok ? `ok ${(s.ms / 1000).toFixed(1)}s` : s.missing ? 'MISSING' : 'FAILED');

export function formatTable(r: LabTestReport): string {
  const rows = [['#', 'challenge', 'setup', 'check fails', 'solve', 'check passes', 'cleanup']];
  for (const c of r.challenges) rows.push([String(c.index + 1), c.slug, ...STEPS.map((k) => cell(c[k]))]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const lines = rows.map((row) => row.map((v, i) => v.padEnd(widths[i])).join('  '));
  const problems = r.challenges.flatMap((c) => STEPS.filter((k) => c[k] && !c[k]!.ok).map((k) => `  ${c.slug} ${k}: ${c[k]!.message}`));
  if (!r.environment.ok) problems.unshift(`  environment: ${r.environment.message}`);
  if (r.trackSetup && !r.trackSetup.ok) problems.unshift(`  track setup: ${r.trackSetup.message}`);
  return [
    ...lines,
    '',
    ...(problems.length ? ['Problems:', ...problems, ''] : []),
    `${r.lab}: ${r.ok ? 'PASSED' : 'FAILED'} in ${(r.totalMs / 1000).toFixed(1)} s`,
  ].join('\n');
}

const xml = (s: string) => s.replace(/[<>&"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[ch]!);

export function toJunit(r: LabTestReport): string {
  const cases = r.challenges.map((c) => {
    const failed = STEPS.find((k) => c[k] && !c[k]!.ok);
    const ms = STEPS.reduce((a, k) => a + (c[k]?.ms ?? 0), 0);
    const body = failed ? `<failure message="${xml(`${failed}: ${c[failed]!.message}`)}"/>` : '';
    return `    <testcase classname="${xml(r.lab)}" name="${xml(`${c.index + 1}. ${c.slug}`)}" time="${ms / 1000}">${body}</testcase>`;
  });
  const failures = r.challenges.filter((c) => !c.ok).length + (r.environment.ok ? 0 : 1);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="${xml(r.lab)}" tests="${r.challenges.length}" failures="${failures}" time="${r.totalMs / 1000}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}
