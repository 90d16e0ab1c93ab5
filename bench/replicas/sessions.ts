/**
 * A learner of the replicas bench, through the JSON API (the load bench's LearnerApi): starts the
 * lab on one replica as a new learner, then polls its session every 250 ms, on whichever replica
 * the phase says, until it leaves `provisioning`; and stops it.
 */
import { LearnerApi } from '../load/api';
import { sleep } from '../lib/stats';

export interface Outcome {
  i: number;
  id?: string;
  learnerId: string;
  /** `active`, `failed`, `start-failed` (the POST), or `timeout`. */
  status: string;
  error?: string;
  /** From the POST being sent to `active` being seen, ms. */
  toActiveMs?: number;
  /** When `active` was seen (performance.now()). */
  activeAt?: number;
}

export interface LearnerPlan {
  lab: string;
  /** The replica the POST goes to. */
  startOn: string;
  /** The replica each poll goes to. */
  pollOn: string;
  timeoutMs: number;
  /** Called once the POST has been answered (or has failed). */
  posted: () => void;
}

/** One learner: POST through `startOn`, then GET through `pollOn` every 250 ms until the session leaves provisioning. */
export async function learner(i: number, plan: LearnerPlan): Promise<Outcome> {
  const api = new LearnerApi(plan.startOn);
  const poll = api.on(plan.pollOn);
  const sentAt = performance.now();
  const out: Outcome = { i, learnerId: api.learnerId, status: 'start-failed' };
  try {
    out.id = (await api.start(plan.lab)).id;
  } catch (e) {
    return { ...out, error: (e as Error).message };
  } finally {
    plan.posted();
  }
  let lastError: string | undefined;
  while (performance.now() - sentAt < plan.timeoutMs) {
    await sleep(250);
    try {
      const s = await poll.session(out.id);
      if (s.status === 'provisioning') continue;
      const at = performance.now();
      if (s.status === 'active') return { ...out, status: 'active', toActiveMs: Math.round(at - sentAt), activeAt: at };
      return { ...out, status: s.status, error: s.error };
    } catch (e) {
      lastError = (e as Error).message;
    }
  }
  return { ...out, status: 'timeout', error: `not active within ${plan.timeoutMs / 1000} s${lastError ? `; last poll: ${lastError}` : ''}` };
}

/** Stops the session through `origin`; the error, if it did not. */
export async function stop(origin: string, o: Outcome): Promise<string | undefined> {
  if (!o.id) return undefined;
  return new LearnerApi(origin, o.learnerId).stop(o.id).then(
    () => undefined,
    (e: Error) => e.message,
  );
}
