/** One load level's raw results turned into the numbers the bench reports, and their growth with N. */
import { MiB, percentile, round } from '../lib/stats';
import type { EngineSample } from './engine';
import type { LearnerResult } from './learner';

export interface Pct {
  p50: number | null;
  p99: number | null;
  n: number;
}

const pct = (values: number[]): Pct => {
  const v = values.filter((x) => Number.isFinite(x));
  return v.length ? { p50: round(percentile(v, 50), 1), p99: round(percentile(v, 99), 1), n: v.length } : { p50: null, p99: null, n: 0 };
};

const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
const max = (v: number[]) => (v.length ? Math.max(...v) : NaN);
const finite = (n: number) => (Number.isFinite(n) ? n : null);

export interface LevelSummary {
  learners: number;
  outcomes: Record<LearnerResult['outcome'], number>;
  /** Learners that waited for memory (over the capacity): admitted only once others stopped. */
  queuedForRoom: number;
  /** Learners that waited for their turn to be prepared, and the longest queue seen. */
  queuedForTurn: number;
  maxTurnPosition: number;
  /** First estimate shown in the turn queue vs what it really took (ms), per learner that got one. */
  estimates: Array<{ estimateMs: number; actualMs: number }>;
  ms: {
    startToActive: Pct;
    startToPrompt: Pct;
    echo: Pct;
    command: Pct;
    check: Pct;
  };
  checksPassed: number;
  server: { rssPeakMiB: number | null; rssEndMiB: number | null };
  engine: {
    containersPeak: number;
    containersMemPeakMiB: number | null;
    containersCpuMeanCores: number | null;
    containersCpuPeakCores: number | null;
    engineRssPeakMiB: number | null;
    engineCpuMeanCores: number | null;
  };
  wallSeconds: number;
  /** Seconds from the last learner's end until none of our containers was left. */
  cleanupSeconds: number | null;
  errors: string[];
  /** With --pool: the pool's size, and how long it took to hold this level's warm environments. */
  pool?: { size: number; fillSeconds: number };
  /** The engine alone starting as many containers as these N environments have (load.ts), when measured. */
  engineFloor?: { environments: number; containers: number; allRunningMs?: number; error?: string };
}

export function summarize(
  results: LearnerResult[],
  samples: EngineSample[],
  server: { rssPeak?: number; rssEnd?: number },
  wallMs: number,
  cleanupMs: number | null,
): LevelSummary {
  const outcomes = { done: 0, refused: 0, failed: 0, timeout: 0 };
  for (const r of results) outcomes[r.outcome]++;
  const num = (f: (r: LearnerResult) => number | undefined) => results.map(f).filter((x): x is number => x !== undefined);
  const cpu = samples.map((s) => s.containersCpu).filter((x): x is number => x !== undefined);
  const ecpu = samples.map((s) => s.engineCpu).filter((x): x is number => x !== undefined);
  return {
    learners: results.length,
    outcomes,
    queuedForRoom: results.filter((r) => r.queuedForRoom).length,
    queuedForTurn: results.filter((r) => r.maxTurnPosition > 0).length,
    maxTurnPosition: Math.max(0, ...results.map((r) => r.maxTurnPosition)),
    estimates: results.flatMap((r) => (r.firstEstimate && Number.isFinite(r.firstEstimate.actualMs) ? [r.firstEstimate] : [])),
    ms: {
      startToActive: pct(num((r) => r.startToActiveMs)),
      startToPrompt: pct(num((r) => r.startToPromptMs)),
      echo: pct(results.flatMap((r) => r.echoMs)),
      command: pct(num((r) => r.commandMs)),
      check: pct(num((r) => r.checkMs)),
    },
    checksPassed: results.filter((r) => r.checkPassed).length,
    server: {
      rssPeakMiB: server.rssPeak === undefined ? null : round(server.rssPeak / MiB, 1),
      rssEndMiB: server.rssEnd === undefined ? null : round(server.rssEnd / MiB, 1),
    },
    engine: {
      containersPeak: Math.max(0, ...samples.map((s) => s.containers)),
      containersMemPeakMiB: finite(round(max(samples.map((s) => s.containersMemBytes)) / MiB, 1)),
      containersCpuMeanCores: finite(round(mean(cpu), 2)),
      containersCpuPeakCores: finite(round(max(cpu), 2)),
      engineRssPeakMiB: finite(round(max(samples.map((s) => s.engineRssBytes)) / MiB, 1)),
      engineCpuMeanCores: finite(round(mean(ecpu), 2)),
    },
    wallSeconds: round(wallMs / 1000, 1),
    cleanupSeconds: cleanupMs === null ? null : round(cleanupMs / 1000, 1),
    errors: [...new Set(results.flatMap((r) => (r.error ? [`${r.outcome}: ${r.error}`] : [])))].slice(0, 10),
  };
}

/** Each headline figure at every N divided by the same figure at the smallest N: how it grows. */
export function growth(levels: LevelSummary[]): Record<string, Record<string, number | null>> {
  const base = [...levels].sort((a, b) => a.learners - b.learners)[0];
  const figures: Record<string, (l: LevelSummary) => number | null> = {
    startToPromptP50: (l) => l.ms.startToPrompt.p50,
    startToPromptP99: (l) => l.ms.startToPrompt.p99,
    engineFloor: (l) => l.engineFloor?.allRunningMs ?? null,
    echoP50: (l) => l.ms.echo.p50,
    echoP99: (l) => l.ms.echo.p99,
    checkP50: (l) => l.ms.check.p50,
    checkP99: (l) => l.ms.check.p99,
    serverRssPeak: (l) => l.server.rssPeakMiB,
    serverRssEnd: (l) => l.server.rssEndMiB,
    containersMemPeak: (l) => l.engine.containersMemPeakMiB,
    containersCpuMean: (l) => l.engine.containersCpuMeanCores,
    engineRssPeak: (l) => l.engine.engineRssPeakMiB,
    engineCpuMean: (l) => l.engine.engineCpuMeanCores,
  };
  const out: Record<string, Record<string, number | null>> = {};
  for (const l of levels) {
    const row: Record<string, number | null> = {};
    for (const [k, f] of Object.entries(figures)) {
      const a = f(l);
      const b = base ? f(base) : null;
      row[k] = a === null || b === null || b === 0 ? null : round(a / b, 2);
    }
    out[`N=${l.learners}`] = row;
  }
  return out;
}
