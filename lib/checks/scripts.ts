/**
 * Lifecycle scripts (setup, check, solve, cleanup) run inside the hosts.
 *
 * Instruqt semantics: the exit code decides; a failing script prints `FAIL: message` (or calls
 * `fail-message "..."`) and that text is what the learner sees. A `FAIL:` line on stdout fails a
 * script even when it exits 0 (that is how fail-message works). Tamper-proof: the script is read
 * from the platform's lab folder at run time and handed to the trusted runner on stdin; see
 * runner.ts for what the learner, root in the host, can and cannot influence.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Environment, EnvironmentDriver } from '../environments/driver';
import type { ScriptKind } from '../labs/schema';
import { log as rootLog } from '../base/log';
import { MAX_SCRIPT_BYTES, runnerArgv, runnerEnv } from './runner';

const log = rootLog.child({ module: 'checks' });

/** Longest learner-facing message taken from a FAIL line. */
const MAX_MESSAGE = 500;

export interface RunScriptOptions {
  host: string;
  /** Absolute path of the script on the platform (inside the lab folder). */
  file: string;
  kind: ScriptKind;
  timeoutMs: number;
  /** Session variables this script may see (already scoped), handed to it as environment variables. */
  vars?: Record<string, string>;
}

export interface ScriptRun {
  host: string;
  kind: ScriptKind;
  /** Basename, e.g. `check-workstation`. */
  script: string;
  /** The script's exit code (128+signal when killed); -1 when it could not be started. */
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  timeoutMs: number;
  durationMs: number;
  /** Set when the platform could not run the script at all (host gone, file missing, no sh...). */
  error?: string;
}

export interface PhaseFailure {
  host: string;
  script: string;
  /** Learner-facing (see verdictFrom). */
  message: string;
}

export interface PhaseResult {
  ok: boolean;
  runs: ScriptRun[];
  failure?: PhaseFailure;
}

export type ScriptsMap = Partial<Record<ScriptKind, Record<string, string>>>;

export function passed(run: ScriptRun): boolean {
  return !run.error && !run.timedOut && run.exitCode === 0 && failLine(run.stdout) === undefined;
}

/** Runs one script in one host. Never throws for a script or host problem: it is reported in the ScriptRun. */
export async function runScript(driver: EnvironmentDriver, env: Environment, opts: RunScriptOptions): Promise<ScriptRun> {
  const script = path.basename(opts.file);
  // The in-host watchdog counts whole seconds; report the limit that was really applied.
  const seconds = Math.max(1, Math.ceil(opts.timeoutMs / 1000));
  const base = { host: opts.host, kind: opts.kind, script, timeoutMs: seconds * 1000 };
  const started = Date.now();
  const failed = (error: string): ScriptRun => ({
    ...base,
    exitCode: -1,
    stdout: '',
    stderr: '',
    timedOut: false,
    durationMs: Date.now() - started,
    error,
  });

  let text: Buffer;
  try {
    text = await readFile(opts.file);
  } catch (e) {
    return failed(`cannot read ${opts.file} on the platform: ${(e as Error).message}`);
  }
  if (text.length > MAX_SCRIPT_BYTES) return failed(`${script} is ${text.length} bytes: scripts may be at most ${MAX_SCRIPT_BYTES} bytes`);
  const hostSpec = env.hosts.find((h) => h.name === opts.host);
  if (!hostSpec) return failed(`no host "${opts.host}" in this environment (hosts: ${env.hosts.map((h) => h.name).join(', ')})`);

  const workdir = hostSpec.spec?.workdir ?? '/root';
  const hosts = env.hosts.map((h) => `${h.name}=${h.address ?? ''}`).join(' ');
  const scriptEnv = runnerEnv(opts.kind, { ...(opts.vars ?? {}), LABFORGE_HOST: opts.host, LABFORGE_KIND: opts.kind, LABFORGE_HOSTS: hosts });

  let res;
  try {
    res = await driver.exec(env, opts.host, runnerArgv(opts.kind, script, workdir), {
      stdin: text,
      user: 'root',
      env: scriptEnv,
      timeoutMs: seconds * 1000,
    });
  } catch (e) {
    return failed(`cannot run ${script} in ${opts.host}: ${(e as Error).message}`);
  }
  const durationMs = Date.now() - started;
  // The engine could not start the runner: the toolbox is missing in this host, not the script's
  // fault. (Decided by the engine, never by reading the script's own stderr, which it controls.)
  if (res.notStarted) {
    log.warn({ host: opts.host, script, stderr: res.stderr.slice(0, 2000) }, 'script runner failed');
    return { ...failed(`cannot run ${script} in ${opts.host}: ${firstLine(res.stderr) || 'the toolbox is missing'}`), stderr: res.stderr, durationMs };
  }
  const run: ScriptRun = {
    ...base,
    exitCode: res.exitCode,
    timedOut: res.timedOut,
    stdout: res.stdout,
    stderr: res.stderr,
    durationMs,
  };
  log.debug({ host: run.host, script, exitCode: run.exitCode, timedOut: run.timedOut, ms: durationMs }, 'script ran');
  return run;
}

/** How many hosts' scripts a parallel phase runs at once: enough for every lab we have, not a stampede on the engine. */
export const PARALLEL_SCRIPTS = 8;

/**
 * Runs each host's script of `kind` in the track's host order and stops at the first failure.
 * A script for a host that is not in `hostOrder` still runs (last) so a typo fails loudly
 * instead of silently skipping a check.
 *
 * With `concurrency` above 1 (a lab's `parallel_setup`), up to that many hosts' scripts run at
 * once and every one runs to its end; the result reads as if they had run in host order: `runs`
 * in host order, and the failure is the first failing host's in that order, whichever finished
 * first, so the same outcomes always give the same report.
 */
export async function runPhase(
  driver: EnvironmentDriver,
  env: Environment,
  scripts: ScriptsMap,
  kind: ScriptKind,
  hostOrder: string[],
  timeoutMs: number,
  /** The variables a host's script receives (scoped by the caller). */
  varsFor: (host: string) => Record<string, string> = () => ({}),
  concurrency = 1,
): Promise<PhaseResult> {
  const byHost = scripts[kind] ?? {};
  const extra = Object.keys(byHost)
    .filter((h) => !hostOrder.includes(h))
    .sort();
  const order = [...hostOrder.filter((h) => byHost[h]), ...extra];
  const run1 = (host: string) => runScript(driver, env, { host, file: byHost[host], kind, timeoutMs, vars: varsFor(host) });
  const runs: ScriptRun[] = [];
  if (concurrency <= 1) {
    for (const host of order) {
      const run = await run1(host);
      runs.push(run);
      if (!passed(run)) return { ok: false, runs, failure: { host, script: run.script, message: verdictFrom(run) } };
    }
    return { ok: true, runs };
  }
  const results: ScriptRun[] = new Array(order.length);
  let next = 0;
  const worker = async () => {
    // runScript never throws: each slot is filled.
    for (let i = next++; i < order.length; i = next++) results[i] = await run1(order[i]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, order.length) }, worker));
  const failed = results.find((r) => !passed(r));
  return failed
    ? { ok: false, runs: results, failure: { host: failed.host, script: failed.script, message: verdictFrom(failed) } }
    : { ok: true, runs: results };
}

/**
 * The learner-facing message for a run: the first `FAIL:` line (stdout, then stderr), else a
 * generic line naming the script. Never the script's full output: that is for instructors.
 */
export function verdictFrom(run: ScriptRun): string {
  if (run.error) return `${run.script} could not run in ${run.host}; try again, and tell your instructor if it keeps happening`;
  if (run.timedOut) return `${run.script} timed out after ${formatSeconds(run.timeoutMs)}`;
  if (run.exitCode === 0 && failLine(run.stdout) === undefined) return `${run.script} passed`;
  return failLine(run.stdout) ?? failLine(run.stderr) ?? `${run.script} failed (exit ${run.exitCode})`;
}

/** Text of the first non-empty `FAIL:` line, prefix stripped, colours removed, trimmed. */
export function failLine(output: string): string | undefined {
  for (const raw of output.split('\n')) {
    const line = stripAnsi(raw).replace(/\r$/, '');
    const m = /^\s*FAIL:(.*)$/.exec(line);
    const text = m?.[1].trim();
    if (text) return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
  }
  return undefined;
}

function stripAnsi(s: string): string {
  // CSI sequences (colours, cursor moves) and OSC titles: authors colour their FAIL lines.
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '');
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim()) ?? '').trim().slice(0, 200);
}
