/**
 * The runtime's score passback (started and stopped by lib/runtime/start.ts): every `pollMs`, and
 * whenever an attempt ends, new events become queued scores (score-outbox.ts), then each session's
 * oldest pending score, if due, is posted to its line item with an AGS access token
 * (access-token.ts). A 2xx delivers it; anything else is retried with the webhooks' backoff
 * (lib/webhooks/retry.ts) until the retry window ends. The queue is in the database: an LMS that
 * is down, or a restart, loses nothing, and a session's scores arrive in order.
 */
import type { Logger } from '../base/log';
import type { Db } from '../db/client';
import { RETRY, retryAt, type RetryPolicy } from '../webhooks/retry';
import { post } from '../webhooks/send';
import { AccessTokens } from './access-token';
import { AGS_SCORE_SCOPE } from './claims';
import { toPlatform } from './platforms';
import { queueScores } from './score-outbox';
import { claimScore, dueScores, pruneScores, recordScore, type DueScore } from './score-queue';

export interface ScoreDispatcherOptions {
  pollMs?: number;
  backoffBaseMs?: number;
  maxBackoffMs?: number;
  maxAgeMs?: number;
  timeoutMs?: number;
  maxInFlight?: number;
  now?: () => Date;
}

const LEASE_MARGIN_MS = 30_000;
const RETENTION_MS = 30 * 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

export class ScoreDispatcher {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly retry: RetryPolicy;
  private readonly tokens: AccessTokens;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly opts: Required<Pick<ScoreDispatcherOptions, 'pollMs' | 'timeoutMs' | 'maxInFlight'>>;
  private timer?: NodeJS.Timeout;
  private passing?: Promise<void>;
  private again = false;
  private stopped = false;
  private prunedAt = 0;
  private failing?: string;

  constructor(
    private db: Db,
    log: Logger,
    opts: ScoreDispatcherOptions = {},
  ) {
    this.log = log.child({ module: 'lti-scores' });
    this.now = opts.now ?? (() => new Date());
    this.opts = { pollMs: opts.pollMs ?? 1000, timeoutMs: opts.timeoutMs ?? 10_000, maxInFlight: opts.maxInFlight ?? 8 };
    this.retry = { baseMs: opts.backoffBaseMs ?? RETRY.baseMs, maxDelayMs: opts.maxBackoffMs ?? RETRY.maxDelayMs, maxAgeMs: opts.maxAgeMs ?? RETRY.maxAgeMs };
    this.tokens = new AccessTokens(db, this.opts.timeoutMs);
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** A pass now, or right after the one under way (passes never overlap). */
  wake(): void {
    if (this.stopped) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = this.pass()
      .then(() => (this.failing = undefined))
      .catch((e: Error) => {
        if (e.message !== this.failing) this.log.warn({ err: e.message }, 'LTI score pass failed; trying again every poll');
        this.failing = e.message;
      })
      .finally(() => {
        this.passing = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Stops polling and waits for the attempts under way (each bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.passing;
    await Promise.all(this.inFlight.values());
  }

  private async pass(): Promise<void> {
    for (let i = 0; i < 10 && !this.stopped; i++) if (!(await queueScores(this.db)).more) break;
    const now = this.now().getTime();
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      await pruneScores(this.db, new Date(now - RETENTION_MS));
    }
    const room = this.opts.maxInFlight - this.inFlight.size;
    for (const s of await dueScores(this.db, this.now(), new Set(this.inFlight.keys()), room)) {
      if (this.stopped) break;
      const task = this.attempt(s)
        .catch((e: Error) => this.log.warn({ score: s.id, err: e.message }, 'LTI score attempt could not be recorded'))
        .finally(() => {
          this.inFlight.delete(s.sessionId);
          this.wake(); // the session's next score may go now
        });
      this.inFlight.set(s.sessionId, task);
    }
  }

  private async attempt(s: DueScore): Promise<void> {
    const lease = new Date(this.now().getTime() + 2 * this.opts.timeoutMs + LEASE_MARGIN_MS);
    if (!(await claimScore(this.db, s, lease))) return;
    const platform = toPlatform(s.platform);
    let outcome: { ok: boolean; status: number | null; error: string | null };
    try {
      const token = await this.tokens.get(platform, AGS_SCORE_SCOPE);
      const headers = { 'content-type': 'application/vnd.ims.lis.v1.score+json', authorization: `Bearer ${token}`, 'user-agent': 'Labforge-LTI' };
      outcome = await post(s.url, headers, s.body, { timeoutMs: this.opts.timeoutMs, maxResponseBytes: 4096 });
      if (outcome.status === 401) this.tokens.forget(platform.id); // revoked early: the next attempt gets a new one
    } catch (e) {
      outcome = { ok: false, status: null, error: (e as Error).message.slice(0, 300) };
    }
    const now = this.now();
    const retry = outcome.ok ? null : retryAt(this.retry, s.attempts + 1, s.createdAt, now);
    await recordScore(this.db, s.id, outcome, now, retry);
    const about = { platform: platform.name, session: s.sessionId, score: s.id, attempt: s.attempts + 1 };
    if (outcome.ok) this.log.debug(about, 'LTI score delivered');
    else if (retry) this.log.info({ ...about, err: outcome.error, retryAt: retry.toISOString() }, 'LTI score failed; will retry');
    else this.log.warn({ ...about, err: outcome.error }, 'LTI score given up: still failing after the retry window');
  }
}
