/**
 * The passes a long-running server makes besides answering requests. Often: expiry and idle
 * timeouts (sweep), hosts that stopped under a live session (watch: the learner is told and can
 * restart them; a removed one fails the session), the replica's heartbeat and the handover of
 * gone replicas' jobs (replicas), the shared warm pool's refill (pool, with replicas only). Seldom:
 * leftovers nobody owns (reconcile). The sweep, the watch, the pool and the reconciler run once for
 * the whole platform: start.ts makes each of them a periodic job
 * (lib/jobs/), and the timer here only sends it. A pass still running when the next is due is not
 * doubled; a failed pass is logged, not fatal.
 */
import type { Config } from '../base/config';
import type { Logger } from '../base/log';

export interface Passes {
  sweep(): Promise<unknown>;
  watch(): Promise<unknown>;
  reconcile(): Promise<unknown>;
  replicas(): Promise<unknown>;
  pool(): Promise<unknown>;
}

const SWEEP_MS = 10_000;
/** The shared pool's pass: how soon a claimed member is replaced (and a learner's first prompt comes first). */
const POOL_MS = 5_000;

/** How often each pass runs (the sweep's and the pool's are fixed; the rest are settings). */
export function passIntervals(config: Pick<Config, 'watchMs' | 'reconcileMs' | 'replicaHeartbeatMs'>): Record<keyof Passes, number> {
  return { sweep: SWEEP_MS, watch: config.watchMs, reconcile: config.reconcileMs, replicas: config.replicaHeartbeatMs, pool: POOL_MS };
}

export function startBackgroundPasses(intervals: Record<keyof Passes, number>, log: Logger, passes: Passes): { stop(): void } {
  const every = (ms: number, what: string, pass: () => Promise<unknown>) => {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      void pass()
        .catch((e: Error) => log.warn({ err: e.message }, `${what} failed`))
        .finally(() => (running = false));
    }, ms);
    timer.unref();
    return timer;
  };
  const timers = [
    every(intervals.sweep, 'sweep', passes.sweep),
    every(intervals.watch, 'host watch', passes.watch),
    every(intervals.reconcile, 'housekeeping', passes.reconcile),
    every(intervals.replicas, 'replica handover', passes.replicas),
    every(intervals.pool, 'pool refill', passes.pool),
  ];
  return { stop: () => timers.forEach(clearInterval) };
}
