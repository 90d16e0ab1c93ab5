/**
 * Join links: how a session a grader started reaches the learner's browser. A link carries a
 * random code that works once, for 15 minutes; opening it gives that browser the session's
 * learner cookie (lib/http/join-page.ts). Only the code's SHA-256 is stored.
 */
import crypto from 'node:crypto';
import type { Db } from '../db/client';

export const JOIN_TTL_MS = 15 * 60_000;
const CODE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Links past their time are kept a day (a late click still gets "expired", not "unknown"), then removed. */
const KEEP_EXPIRED_MS = 24 * 3_600_000;

const hashCode = (code: string) => crypto.createHash('sha256').update(code).digest('hex');

export type Redeemed = { ok: true; sessionId: string; learnerId: string } | { ok: false; status: 404 | 410; reason: string };

export class JoinLinks {
  constructor(
    private db: Db,
    private now: () => Date = () => new Date(),
  ) {}

  /** A new code for the session; the caller builds the URL. */
  async mint(sessionId: string): Promise<{ code: string; expiresAt: Date }> {
    const now = this.now();
    const code = crypto.randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + JOIN_TTL_MS);
    await this.db.joinLink.deleteMany({ where: { expiresAt: { lt: new Date(now.getTime() - KEEP_EXPIRED_MS) } } });
    await this.db.joinLink.create({ data: { hash: hashCode(code), sessionId, expiresAt } });
    return { code, expiresAt };
  }

  /**
   * Uses the code up and answers whose session it opens. Marking it used is one conditional write
   * (unused and not expired), so two clicks at once cannot both succeed; a refusal changes nothing.
   */
  async redeem(code: string): Promise<Redeemed> {
    const unknown = { ok: false, status: 404, reason: 'This join link is not valid. Check that it was copied whole, or ask for a new one.' } as const;
    if (!CODE_SHAPE.test(code)) return unknown;
    const hash = hashCode(code);
    const now = this.now();
    const used = await this.db.joinLink.updateMany({ where: { hash, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
    const link = await this.db.joinLink.findUnique({ where: { hash }, include: { session: { select: { learnerId: true } } } });
    if (!link) return unknown;
    if (used.count === 1) return { ok: true, sessionId: link.sessionId, learnerId: link.session.learnerId };
    if (link.usedAt) return { ok: false, status: 410, reason: 'This join link was already used: each link works once. Ask for a new one.' };
    return { ok: false, status: 410, reason: 'This join link has expired: links work for 15 minutes. Ask for a new one.' };
  }
}
