/**
 * Lets the simulated learners do one step together (everyone types, then everyone presses
 * Check), so that step is measured under the load of all of them. A learner that cannot come
 * (failed, or waiting for room until others stop) leaves, so the rest are not held up by it;
 * a time limit covers anything else.
 */
export class Barrier {
  private arrived = 0;
  private expected: number;
  private waiters: Array<() => void> = [];
  private open = false;

  constructor(
    participants: number,
    /** After the first arrival, go anyway after this long. */
    private readonly maxWaitMs = 120_000,
  ) {
    this.expected = participants;
  }

  /** Resolves once everyone still expected has arrived (or the time limit passed, or the signal aborts). */
  arrive(signal?: AbortSignal): Promise<void> {
    this.arrived++;
    if (this.arrived === 1 && !this.open) setTimeout(() => this.release(), this.maxWaitMs).unref();
    const p = new Promise<void>((resolve) => {
      if (this.open) return resolve();
      this.waiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    this.maybeRelease();
    return p;
  }

  /** One participant will not come. */
  leave(): void {
    this.expected--;
    this.maybeRelease();
  }

  private maybeRelease(): void {
    if (this.arrived >= this.expected) this.release();
  }

  private release(): void {
    this.open = true;
    for (const w of this.waiters.splice(0)) w();
  }
}
