/**
 * The runtime's score passback (started and stopped by lib/runtime/start.ts), run by the webhooks'
 * loop (lib/webhooks/outbox-loop.ts): new events become queued scores (score-outbox.ts), then each
 * session's oldest pending score, if due, is posted to its line item with an AGS access token
 * (access-token.ts). A 2xx delivers it; anything else is retried with the webhooks' backoff until
 * the retry window ends. The queue is in the database: an LMS that is down, or a restart, loses
 * nothing, and a session's scores arrive in order.
 */
import type { Logger } from '../base/log';
import type { Db } from '../db/client';
import { OutboxLoop, type OutboxOptions } from '../webhooks/outbox-loop';
import { post, type SendOutcome } from '../webhooks/send';
import { AccessTokens } from './access-token';
import { AGS_SCORE_SCOPE } from './claims';
import { toPlatform } from './platforms';
import { queueScores } from './score-outbox';
import { claimScore, dueScores, pruneScores, recordScore, type DueScore } from './score-queue';

export type ScoreDispatcherOptions = Omit<OutboxOptions, 'random' | 'retentionMs' | 'maxResponseBytes'>;

export class ScoreDispatcher extends OutboxLoop<DueScore> {
  private readonly tokens: AccessTokens;

  constructor(db: Db, log: Logger, opts: ScoreDispatcherOptions = {}) {
    super(db, log, { module: 'lti-scores', pass: 'LTI score', item: 'LTI score' }, opts);
    this.tokens = new AccessTokens(db, this.limits.timeoutMs);
  }

  protected async send(s: DueScore): Promise<SendOutcome> {
    const platform = toPlatform(s.platform);
    try {
      const token = await this.tokens.get(platform, AGS_SCORE_SCOPE);
      const headers = { 'content-type': 'application/vnd.ims.lis.v1.score+json', authorization: `Bearer ${token}`, 'user-agent': 'Labforge-LTI' };
      const outcome = await post(s.url, headers, s.body, this.limits);
      if (outcome.status === 401) this.tokens.forget(platform.id); // revoked early: the next attempt gets a new one
      return outcome;
    } catch (e) {
      return { ok: false, status: null, error: (e as Error).message.slice(0, 300) };
    }
  }

  /** A token request, then the post: each within the timeout. */
  protected attemptMs = () => 2 * this.limits.timeoutMs;
  protected feed = () => queueScores(this.db);
  protected due = (now: Date, busy: ReadonlySet<string>, limit: number) => dueScores(this.db, now, busy, limit);
  protected key = (s: DueScore) => s.sessionId;
  protected claim = (s: DueScore, until: Date) => claimScore(this.db, s, until);
  protected record = (s: DueScore, outcome: SendOutcome, now: Date, retry: Date | null) => recordScore(this.db, s.id, outcome, now, retry);
  protected about = (s: DueScore) => ({ platform: s.platform.name, session: s.sessionId, score: s.id });

  protected async prune(before: Date): Promise<void> {
    await pruneScores(this.db, before);
  }
}
