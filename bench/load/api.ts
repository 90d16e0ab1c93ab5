/**
 * One simulated learner's browser, as far as the JSON API sees it: its own learner cookie and
 * the page's Origin on every call (what the page's fetches send).
 */
import { randomBytes } from 'node:crypto';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface QueueSeen {
  waitingFor: 'room' | 'turn' | 'replica';
  position: number;
  estimateMs?: number;
}

/** The part of the session view (lib/sessions/view.ts) the bench reads. */
export interface SessionSeen {
  id: string;
  status: string;
  error?: string;
  queue?: QueueSeen;
  current?: { tabs: Array<{ id: string; type: string; hostname?: string }> };
}

export class LearnerApi {
  /** `learnerId`: like lib/auth/learner.ts newLearnerId, 32 URL-safe characters; a new learner by default. */
  constructor(
    readonly origin: string,
    readonly learnerId = randomBytes(24).toString('base64url'),
  ) {}

  /** The same learner through another server (a replica of the same platform). */
  on(origin: string): LearnerApi {
    return new LearnerApi(origin, this.learnerId);
  }

  private async call<T>(method: string, url: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.origin}${url}`, {
      method,
      headers: {
        origin: this.origin,
        cookie: `labforge_learner=${this.learnerId}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    }).catch((e: Error) => {
      // undici says only "fetch failed": the reason is its cause (a reset, a refused connection, a timeout).
      const cause = (e.cause as Error | undefined)?.message;
      throw new Error(`${method} ${url}: ${e.message}${cause ? ` (${cause})` : ''}`);
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // not JSON: the text itself
      }
      throw new ApiError(res.status, `${method} ${url}: ${res.status} ${message}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  start(lab: string): Promise<{ id: string; status: string }> {
    return this.call('POST', '/api/v1/sessions', { lab });
  }

  session(id: string): Promise<SessionSeen> {
    return this.call('GET', `/api/v1/sessions/${id}`);
  }

  token(id: string, tab: string): Promise<{ token: string; path: string }> {
    return this.call('POST', `/api/v1/sessions/${id}/terminals/${tab}/token`);
  }

  check(id: string): Promise<{ passed: boolean; message: string }> {
    return this.call('POST', `/api/v1/sessions/${id}/check`, {});
  }

  stop(id: string): Promise<unknown> {
    return this.call('DELETE', `/api/v1/sessions/${id}`);
  }
}
