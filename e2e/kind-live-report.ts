/**
 * What `npm run test:kind` (kind-live.ts) writes to docs/kind-live.md: when and where it ran, how
 * long the cluster took to be created and Cilium to be ready (from the driver's progress steps),
 * and each challenge of the lab test, step by step. Pure: the run gathers the facts, this renders.
 */
import type { ProgressStep } from '../lib/environments/driver';
import { STEPS, type LabTestReport, type StepResult } from '../lib/authoring/labtest';

/** One progress step of environment creation, as the driver reported it. */
export interface StepRecord {
  step: string;
  startedAt: number;
  endedAt?: number;
  status: ProgressStep['status'];
}

/** Records a progress event: a step starts at its first `running`, ends at `done` or `failed`. */
export function recordStep(steps: StepRecord[], p: ProgressStep, now: number): void {
  const open = steps.findLast((s) => s.step === p.step && s.endedAt === undefined);
  if (p.status === 'running') {
    if (!open) steps.push({ step: p.step, startedAt: now, status: 'running' });
    return;
  }
  const rec = open ?? { step: p.step, startedAt: now - (p.ms ?? 0), status: p.status };
  if (!open) steps.push(rec);
  rec.status = p.status;
  rec.endedAt = p.ms !== undefined ? rec.startedAt + p.ms : now;
}

export interface Phases {
  /** `kind create cluster`. */
  clusterCreateMs?: number;
  /** From the Cilium chart's install to every node and system pod ready (Cilium is the CNI: nothing is ready before it). */
  ciliumReadyMs?: number;
}

export function phases(steps: StepRecord[]): Phases {
  const done = (re: RegExp) => steps.filter((s) => re.test(s.step) && s.status === 'done' && s.endedAt !== undefined);
  const cluster = done(/^Creating cluster$/).at(0);
  const cilium = steps.find((s) => /^Installing cilium$/i.test(s.step));
  const ready = done(/^Waiting for (nodes|system pods)$/).at(-1);
  return {
    clusterCreateMs: cluster ? cluster.endedAt! - cluster.startedAt : undefined,
    ciliumReadyMs: cilium && ready && ready.endedAt! >= cilium.startedAt ? ready.endedAt! - cilium.startedAt : undefined,
  };
}

export interface KindLiveRun {
  date: Date;
  /** `os.release()`. */
  kernel: string;
  /** `kind version`'s output. */
  kind: string;
  /** The Cilium chart version the lab installs. */
  cilium: string;
  lab: string;
  /** Challenges whose check ends with a `grade:` (the exam). */
  graded: string[];
  steps: StepRecord[];
  report: LabTestReport;
}

const secs = (ms?: number) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
const cell = (s?: StepResult) => (!s ? '—' : s.missing ? 'MISSING' : s.ok ? secs(s.ms) : `FAILED ${secs(s.ms)}`);
const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

/** The whole of docs/kind-live.md for one run. */
export function kindLiveMarkdown(run: KindLiveRun): string {
  const r = run.report;
  const ph = phases(run.steps);
  const date = `${run.date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const result = `${r.ok ? 'PASSED' : 'FAILED'} in ${secs(r.totalMs)}`;
  const lines = [
    '# The Kind live run',
    '',
    '`npm run test:kind` (`e2e/kind-live.ts`) rewrites this file after each run on a machine with kind, helm',
    `and Docker: it creates a kind cluster for \`labs/${run.lab}\`, runs \`labforge test\` on it (per challenge:`,
    'setup, the check must fail, solve, the check must pass, cleanup; the quiz with a wrong and the right',
    'answer; the exam sent and graded) and removes the cluster and its workstation, also when a step fails.',
    'Where it cannot run it prints `skipped: <reason>` and leaves this file alone.',
    '',
    '| date | host kernel | kind | Cilium | result |',
    '| --- | --- | --- | --- | --- |',
    `| ${date} | ${md(run.kernel)} | ${md(run.kind)} | ${md(run.cilium)} | ${result} |`,
    '',
    '## Environment',
    '',
    '| phase | time |',
    '| --- | --- |',
    `| cluster create (\`kind create cluster\`) | ${secs(ph.clusterCreateMs)} |`,
    `| Cilium ready (helm install to every node and system pod ready) | ${secs(ph.ciliumReadyMs)} |`,
    `| environment in all (images, cluster, addons, manifests, workstation) | ${r.environment.ok ? secs(r.environment.ms) : `FAILED ${secs(r.environment.ms)}`} |`,
    `| track setup | ${r.trackSetup ? cell(r.trackSetup) : '—'} |`,
    '',
    'Every step of the environment, as the driver reported it:',
    '',
    '| step | time |',
    '| --- | --- |',
    ...run.steps.map(
      (s) => `| ${md(s.step)} | ${s.endedAt === undefined ? 'unfinished' : `${s.status === 'failed' ? 'FAILED ' : ''}${secs(s.endedAt - s.startedAt)}`} |`,
    ),
    '',
    '## Challenges',
    '',
    '| # | challenge | setup | check fails | solve | check passes | cleanup | total |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.challenges.map((c) => {
      const total = STEPS.reduce((a, k) => a + (c[k]?.ms ?? 0), 0);
      const name = run.graded.includes(c.slug) ? `${c.slug} (graded)` : c.slug;
      return `| ${c.index + 1} | ${md(name)} | ${STEPS.map((k) => cell(c[k])).join(' | ')} | ${secs(total)} |`;
    }),
  ];
  if (!r.challenges.length) lines.push('', 'No challenge ran.');
  const problems = [
    ...(r.environment.ok ? [] : [`environment: ${r.environment.message}`]),
    ...(r.trackSetup && !r.trackSetup.ok ? [`track setup: ${r.trackSetup.message}`] : []),
    ...r.challenges.flatMap((c) => STEPS.filter((k) => c[k] && !c[k]!.ok).map((k) => `${c.slug} ${k}: ${c[k]!.message}`)),
  ];
  if (problems.length) lines.push('', '## Problems', '', ...problems.map((p) => `- ${md(p)}`));
  return `${lines.join('\n')}\n`;
}
