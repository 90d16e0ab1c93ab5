/**
 * Lifecycle scripts (setup, check, solve, cleanup) run inside the hosts.
 *
 * Instruqt semantics: the exit code decides; a failing script prints `FAIL: message` (or calls
 * `fail-message "..."`) and that text is what the learner sees. Tamper-proof: the script is read
 * from the platform's lab folder at run time and exists in the host only while it runs, in a
 * root-only folder (see wrapper.ts for how, and for how fail-message behaves).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Environment, EnvironmentDriver } from '../environments/driver';
import type { ScriptKind } from '../labs/schema';
import { log as rootLog } from '../log';
import { TRAILER, WRAPPER } from './wrapper';

const log = rootLog.child({ module: 'checks' });

/** Time the driver gives the exec beyond the script's own timeout: TERM→KILL grace, output, cleanup. */
const EXEC_GRACE_MS = 20_000;
/** Longest learner-facing message taken from a FAIL line. */
const MAX_MESSAGE = 500;

export interface RunScriptOptions {
  host: string;
  /** Absolute path of the script on the platform (inside the lab folder). */
  file: string;
  kind: ScriptKind;
  timeoutMs: number;
  /** Session variables, handed to the script as environment variables. */
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
  return !run.error && !run.timedOut && run.exitCode === 0;
}

/** Runs one script in one host. Never throws for a script or host problem: it is reported in the ScriptRun. */
export async function runScript(
  driver: EnvironmentDriver,
  env: Environment,
  opts: RunScriptOptions,
): Promise<ScriptRun> {
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
  const hostSpec = env.hosts.find((h) => h.name === opts.host);
  if (!hostSpec) return failed(`no host "${opts.host}" in this environment (hosts: ${env.hosts.map((h) => h.name).join(', ')})`);

  const id = randomBytes(9).toString('hex');
  const workdir = hostSpec.spec?.workdir ?? '/root';
  const scriptEnv = { ...(opts.vars ?? {}), LABFORGE_HOST: opts.host, LABFORGE_KIND: opts.kind };

  let res;
  try {
    res = await driver.exec(env, opts.host, ['sh', '-c', WRAPPER, 'labforge-run', id, script, String(seconds), workdir], {
      stdin: text,
      user: 'root',
      env: scriptEnv,
      timeoutMs: seconds * 1000 + EXEC_GRACE_MS,
    });
  } catch (e) {
    return failed(`cannot run ${script} in ${opts.host}: ${(e as Error).message}`);
  }

  const m = TRAILER.exec(res.stderr);
  const durationMs = Date.now() - started;
  if (!m || m[1] !== id) {
    const why = res.timedOut ? 'the host did not answer in time' : firstLine(res.stderr) || `exit ${res.exitCode}`;
    log.warn({ host: opts.host, script, exitCode: res.exitCode, stderr: res.stderr.slice(0, 2000) }, 'script wrapper failed');
    return { ...failed(`cannot run ${script} in ${opts.host}: ${why}`), stdout: res.stdout, stderr: res.stderr, durationMs };
  }
  const run: ScriptRun = {
    ...base,
    exitCode: Number(m[2]),
    timedOut: m[3] === '1',
    stdout: res.stdout,
    stderr: res.stderr.slice(0, m.index),
    durationMs,
  };
  log.debug({ host: run.host, script, exitCode: run.exitCode, timedOut: run.timedOut, ms: durationMs }, 'script ran');
  return run;
}

/**
 * Runs each host's script of `kind` in the track's host order and stops at the first failure.
 * A script for a host that is not in `hostOrder` still runs (last) so a typo fails loudly
 * instead of silently skipping a check.
 */
export async function runPhase(
  driver: EnvironmentDriver,
  env: Environment,
  scripts: ScriptsMap,
  kind: ScriptKind,
  hostOrder: string[],
  timeoutMs: number,
  vars: Record<string, string> = {},
): Promise<PhaseResult> {
  const byHost = scripts[kind] ?? {};
  const extra = Object.keys(byHost)
    .filter((h) => !hostOrder.includes(h))
    .sort();
  const order = [...hostOrder.filter((h) => byHost[h]), ...extra];
  const runs: ScriptRun[] = [];
  for (const host of order) {
    const run = await runScript(driver, env, { host, file: byHost[host], kind, timeoutMs, vars });
    runs.push(run);
    if (!passed(run)) return { ok: false, runs, failure: { host, script: run.script, message: verdictFrom(run) } };
  }
  return { ok: true, runs };
}

/**
 * The learner-facing message for a run: the first `FAIL:` line (stdout, then stderr), else a
 * generic line naming the script. Never the script's full output: that is for instructors.
 */
export function verdictFrom(run: ScriptRun): string {
  if (run.error) return `${run.script} could not run in ${run.host}; try again, and tell your instructor if it keeps happening`;
  if (run.timedOut) return `${run.script} timed out after ${formatSeconds(run.timeoutMs)}`;
  if (run.exitCode === 0) return `${run.script} passed`;
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
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '');
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim()) ?? '').trim().slice(0, 200);
}
