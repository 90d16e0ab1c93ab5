/**
 * Provisioning progress: named steps with their status and duration, saved as
 * they happen so the page can show them ("Creating 8 hosts 4.2 s").
 */
import type { ProgressStep } from '../environments/driver';

export class ProgressLog {
  readonly steps: ProgressStep[] = [];

  /** `save` persists the whole list; it is called after every change and must not throw. */
  constructor(private save: (steps: ProgressStep[]) => void) {}

  /** Adds a step, or replaces the step of the same name (running → done). */
  report = (p: ProgressStep): void => {
    const i = this.steps.findIndex((s) => s.step === p.step);
    if (i >= 0) this.steps[i] = p;
    else this.steps.push(p);
    this.save(this.steps);
  };

  /** Runs `fn` as a step: running, then done with its duration, or failed with the error's message. */
  async timed(step: string, fn: () => Promise<void>): Promise<void> {
    const t = Date.now();
    this.report({ step, status: 'running' });
    try {
      await fn();
      this.report({ step, status: 'done', ms: Date.now() - t });
    } catch (e) {
      this.report({ step, status: 'failed', ms: Date.now() - t, detail: (e as Error).message });
      throw e;
    }
  }

  totalMs(): number {
    return this.steps.reduce((a, s) => a + (s.ms ?? 0), 0);
  }
}
