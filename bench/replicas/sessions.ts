/**
 * A learner of the replicas bench, through the JSON API: starts the lab on one replica (no cookie:
 * a new learner, whose cookie comes back), then polls its session every 250 ms, on whichever replica
 * the phase says, until it leaves `provisioning`; and stops it.
 */
import { sleep } from '../lib/stats';

export interface Outcome {
  i: number;
  id?: string;
  cookie?: string;
  /** `active`, `failed`, `start-failed` (the POST), or `timeout`. */
  status: string;
  error?: string;
  /** From the POST being sent to `active` being seen, ms. */
  toActiveMs?: number;
  /** When `active` was seen (performance.now()). */
  activeAt?: number;
}

async function call(origin: string, method: string, url: string, cookie?: string, body?: unknown): Promise<{ res: Response; json: Record<string, unknown> }> {
  const res = await fetch(`${origin}${url}`, {
    method,
    headers: { origin, ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  return { res, json };
}

const reason = (e: unknown) => {
  const err = e as Error;
  const cause = (err.cause as Error | undefined)?.message;
  return `${err.message}${cause ? ` (${cause})` : ''}`;
};

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
  const { startOn, pollOn: origin, timeoutMs } = plan;
  const sentAt = performance.now();
  const out: Outcome = { i, status: 'start-failed' };
  try {
    const { res, json } = await call(startOn, 'POST', '/api/v1/sessions', undefined, { lab: plan.lab });
    if (res.status !== 201) return { ...out, error: `POST ${startOn}: ${res.status} ${String(json.error ?? '')}` };
    out.id = String(json.id);
    out.cookie = res.headers.get('set-cookie')?.split(';')[0];
  } catch (e) {
    return { ...out, error: `POST ${startOn}: ${reason(e)}` };
  } finally {
    plan.posted();
  }
  let lastError: string | undefined;
  while (performance.now() - sentAt < timeoutMs) {
    await sleep(250);
    try {
      const { res, json } = await call(origin, 'GET', `/api/v1/sessions/${out.id}`, out.cookie);
      if (!res.ok) {
        lastError = `GET ${origin}: ${res.status} ${String(json.error ?? '')}`;
        continue;
      }
      if (json.status === 'provisioning') continue;
      const at = performance.now();
      if (json.status === 'active') return { ...out, status: 'active', toActiveMs: Math.round(at - sentAt), activeAt: at };
      return { ...out, status: String(json.status), error: typeof json.error === 'string' ? json.error : undefined };
    } catch (e) {
      lastError = `GET ${origin}: ${reason(e)}`;
    }
  }
  return { ...out, status: 'timeout', error: `not active within ${timeoutMs / 1000} s${lastError ? `; last poll: ${lastError}` : ''}` };
}

/** Stops the session through `origin`; the error, if it did not. */
export async function stop(origin: string, o: Outcome): Promise<string | undefined> {
  if (!o.id) return undefined;
  try {
    const { res, json } = await call(origin, 'DELETE', `/api/v1/sessions/${o.id}`, o.cookie);
    return res.ok ? undefined : `DELETE ${o.id}: ${res.status} ${String(json.error ?? '')}`;
  } catch (e) {
    return `DELETE ${o.id}: ${reason(e)}`;
  }
}
