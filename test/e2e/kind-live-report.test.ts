/** docs/kind-live.md as `npm run test:kind` writes it (e2e/kind-live-report.ts): step timing, the phases, the rendering. */
import { describe, expect, it } from 'vitest';
import { kindLiveMarkdown, phases, recordStep, type StepRecord } from '../../e2e/kind-live-report';
import type { LabTestReport } from '../../lib/authoring/labtest';

/** The progress events of a kind creation, as the driver sends them, at fixed times (ms). */
function creation(): StepRecord[] {
  const steps: StepRecord[] = [];
  const events: [number, string, 'running' | 'done' | 'failed', number?][] = [
    [0, 'Preparing cluster images', 'running'],
    [500, 'Building image labforge/k8s-workstation', 'running'],
    [700, 'Building image labforge/k8s-workstation', 'running'], // a detail line: the step started at 500
    [9_000, 'Building image labforge/k8s-workstation', 'done', 8_500],
    [9_100, 'Preparing cluster images', 'done', 9_100],
    [9_100, 'Creating cluster', 'running'],
    [54_100, 'Creating cluster', 'done', 45_000],
    [60_000, 'Installing cilium', 'running'],
    [63_000, 'Installing cilium', 'done', 3_000],
    [63_000, 'Waiting for nodes', 'running'],
    [100_000, 'Waiting for nodes', 'done', 37_000],
    [100_000, 'Waiting for system pods', 'running'],
    [140_000, 'Waiting for system pods', 'done', 40_000],
  ];
  for (const [at, step, status, ms] of events) recordStep(steps, { step, status, ms }, at);
  return steps;
}

const ok = (ms: number) => ({ ok: true, ms, message: 'ok' });
const report: LabTestReport = {
  lab: 'cilium-multicast',
  ok: false,
  environment: ok(150_000),
  trackSetup: ok(20_000),
  totalMs: 400_000,
  challenges: [
    {
      index: 0,
      slug: 'cluster-and-multicast',
      title: 'One',
      ok: true,
      setup: ok(100),
      checkFails: ok(2_000),
      solve: ok(30_000),
      checkPasses: ok(3_000),
      cleanup: ok(0),
    },
    {
      index: 1,
      slug: 'exam',
      title: 'Exam',
      ok: false,
      setup: ok(100),
      checkFails: ok(2_000),
      solve: ok(5_000),
      checkPasses: { ok: false, ms: 9_000, message: 'FAIL: the | sender\nis wrong' },
    },
  ],
};

describe('recordStep and phases', () => {
  it('times each step from its first running event to its end', () => {
    const steps = creation();
    expect(steps.map((s) => [s.step, s.endedAt! - s.startedAt])).toEqual([
      ['Preparing cluster images', 9_100],
      ['Building image labforge/k8s-workstation', 8_500],
      ['Creating cluster', 45_000],
      ['Installing cilium', 3_000],
      ['Waiting for nodes', 37_000],
      ['Waiting for system pods', 40_000],
    ]);
  });

  it('cluster create is kind create cluster; Cilium ready runs from its install to the last readiness wait', () => {
    expect(phases(creation())).toEqual({ clusterCreateMs: 45_000, ciliumReadyMs: 80_000 });
  });

  it('leaves out what did not happen', () => {
    const steps: StepRecord[] = [];
    recordStep(steps, { step: 'Creating cluster', status: 'failed', ms: 3_000 }, 10_000);
    expect(steps).toEqual([{ step: 'Creating cluster', startedAt: 7_000, endedAt: 10_000, status: 'failed' }]);
    expect(phases(steps)).toEqual({ clusterCreateMs: undefined, ciliumReadyMs: undefined });
  });
});

describe('kindLiveMarkdown', () => {
  const doc = kindLiveMarkdown({
    date: new Date('2026-05-04T10:20:30Z'),
    kernel: '6.1.0-18-amd64',
    kind: 'kind v0.30.0 go1.24.6 linux/amd64',
    cilium: 'cilium 1.17.6',
    lab: 'cilium-multicast',
    graded: ['exam'],
    steps: creation(),
    report,
  });
  const lines = doc.split('\n');

  it('heads the file with date, kernel, kind, Cilium and the result', () => {
    expect(lines[0]).toBe('# The Kind live run');
    expect(lines).toContain('| 2026-05-04 10:20 UTC | 6.1.0-18-amd64 | kind v0.30.0 go1.24.6 linux/amd64 | cilium 1.17.6 | FAILED in 400.0 s |');
  });

  it('gives the phases and every creation step', () => {
    expect(lines).toContain('| cluster create (`kind create cluster`) | 45.0 s |');
    expect(lines).toContain('| Cilium ready (helm install to every node and system pod ready) | 80.0 s |');
    expect(lines).toContain('| environment in all (images, cluster, addons, manifests, workstation) | 150.0 s |');
    expect(lines).toContain('| track setup | 20.0 s |');
    expect(lines).toContain('| Building image labforge/k8s-workstation | 8.5 s |');
  });

  it('gives each challenge step by step, the graded one marked, and the problems with pipes escaped', () => {
    expect(lines).toContain('| 1 | cluster-and-multicast | 0.1 s | 2.0 s | 30.0 s | 3.0 s | 0.0 s | 35.1 s |');
    expect(lines).toContain('| 2 | exam (graded) | 0.1 s | 2.0 s | 5.0 s | FAILED 9.0 s | — | 16.1 s |');
    expect(doc).toContain('## Problems\n\n- exam checkPasses: FAIL: the \\| sender is wrong\n');
    expect(doc.endsWith('\n')).toBe(true);
  });
});
