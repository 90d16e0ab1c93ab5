/**
 * How long a queued job will wait, from how long recent jobs took: what a learner in the
 * provisioning queue is told ("ready in about 40 s"). Pure arithmetic, no timers.
 */

/** The last `size` durations (ms) of finished jobs; their median is the typical job. */
export class RecentDurations {
  private values: number[] = [];

  constructor(private readonly size = 20) {}

  add(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    this.values.push(ms);
    if (this.values.length > this.size) this.values.shift();
  }

  /** The median of the recent durations; undefined before the first one (nothing to go on yet). */
  typical(): number | undefined {
    if (!this.values.length) return undefined;
    const sorted = [...this.values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  get count(): number {
    return this.values.length;
  }
}

/**
 * When the job at 1-based `position` of the queue starts, in ms from now, if every job takes
 * `typicalMs`: slots free up as the running jobs reach typicalMs (a job already past it is
 * taken to end any moment), and each queued job ahead takes the earliest free slot for
 * typicalMs. `runningElapsedMs`: how long each running job has run so far.
 */
export function estimateStartMs(position: number, concurrency: number, runningElapsedMs: number[], typicalMs: number): number {
  if (position < 1 || concurrency < 1) return 0;
  // When each of the `concurrency` slots is free next: now for idle slots, else when its job should end.
  const free = runningElapsedMs.map((e) => Math.max(0, typicalMs - e));
  while (free.length < concurrency) free.push(0);
  free.sort((a, b) => a - b);
  let start = 0;
  for (let i = 0; i < position; i++) {
    start = free.shift()!;
    // This job takes the slot for typicalMs; keep the list sorted.
    const end = start + typicalMs;
    const at = free.findIndex((f) => f > end);
    free.splice(at < 0 ? free.length : at, 0, end);
  }
  return start;
}
