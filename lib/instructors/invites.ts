/**
 * Invites: a workshop's link. Whoever opens it may start the invite's labs, under the learner
 * name they give (or the one the invite names), until it expires, is revoked, or its seats are
 * taken (a seat is one learner, however many of the labs they start). The link's code is shown
 * once; only its SHA-256 is stored, like every other credential here.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { AccountError } from '../accounts/errors';
import { NameSchema, valid } from '../accounts/users';
import type { Db } from '../db/client';

export const INVITE_PATH = '/invite/';
const CODE_SHAPE = /^[A-Za-z0-9_-]{22}$/;
const hash = (code: string) => crypto.createHash('sha256').update(code).digest('hex');

export const NewInviteSchema = z
  .object({
    name: z.string().trim().min(1, 'give the invite a name, e.g. the workshop').max(100, 'an invite name is at most 100 characters'),
    labs: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a lab is named by its slug'))
      .min(1, 'pick at least one lab')
      .max(50),
    learnerName: NameSchema.optional(),
    seats: z.number().int().min(1, 'seats: at least 1').max(10_000).optional(),
    /** Hours from now. */
    expiresInHours: z
      .number()
      .positive()
      .max(24 * 365, 'an invite lasts at most a year')
      .optional(),
  })
  .strict();
export type NewInvite = z.input<typeof NewInviteSchema>;

export interface InviteInfo {
  id: string;
  name: string;
  labs: string[];
  learnerName: string | null;
  seats: number | null;
  seatsTaken: number;
  sessions: number;
  expiresAt: string | null;
  createdAt: string;
  createdBy: string | null;
  status: 'open' | 'expired' | 'revoked' | 'full';
}

type InviteRow = Awaited<ReturnType<Db['invite']['findFirstOrThrow']>> & { createdBy?: { email: string } | null };

/** Seats taken (distinct learners) and sessions of each invite: two grouped queries for any number of invites. */
async function usage(db: Db, ids: string[]): Promise<Map<string, { seats: number; sessions: number }>> {
  const pairs = await db.session.groupBy({ by: ['inviteId', 'learnerId'], where: { inviteId: { in: ids } }, _count: { _all: true } });
  const out = new Map(ids.map((id) => [id, { seats: 0, sessions: 0 }]));
  for (const p of pairs) {
    const u = out.get(p.inviteId!);
    if (!u) continue;
    u.seats += 1;
    u.sessions += p._count._all;
  }
  return out;
}

function statusOf(row: InviteRow, taken: number, now = new Date()): InviteInfo['status'] {
  if (row.revokedAt) return 'revoked';
  if (row.expiresAt && row.expiresAt <= now) return 'expired';
  if (row.seats !== null && taken >= row.seats) return 'full';
  return 'open';
}

async function infosOf(db: Db, rows: InviteRow[]): Promise<InviteInfo[]> {
  const used = await usage(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => {
    const { seats: taken, sessions } = used.get(row.id)!;
    return {
      id: row.id,
      name: row.name,
      labs: JSON.parse(row.labs) as string[],
      learnerName: row.learnerName,
      seats: row.seats,
      seatsTaken: taken,
      sessions,
      expiresAt: row.expiresAt?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
      createdBy: row.createdBy?.email ?? null,
      status: statusOf(row, taken),
    };
  });
}

/** Names of the invites, newest first (the dashboard's workshop filter needs no counts). */
export function inviteNames(db: Db): Promise<Array<{ id: string; name: string }>> {
  return db.invite.findMany({ orderBy: { createdAt: 'desc' }, take: 200, select: { id: true, name: true } });
}

/** A new invite and its link (shown this once). `knownLabs`: the installed labs' slugs. */
export async function createInvite(
  db: Db,
  input: NewInvite,
  opts: { createdById: string; publicUrl: string; knownLabs: string[] },
): Promise<{ invite: InviteInfo; url: string }> {
  const v = valid(NewInviteSchema, input);
  const unknown = v.labs.filter((l) => !opts.knownLabs.includes(l));
  if (unknown.length) throw new AccountError('invalid', `labs: no lab is installed as ${unknown.map((l) => `"${l}"`).join(', ')}`);
  const code = crypto.randomBytes(16).toString('base64url');
  const row = await db.invite.create({
    data: {
      id: crypto.randomUUID(),
      hash: hash(code),
      name: v.name,
      labs: JSON.stringify([...new Set(v.labs)]),
      learnerName: v.learnerName || null,
      // An invite that names its learner is for that one person, unless it says otherwise.
      seats: v.seats ?? (v.learnerName ? 1 : null),
      expiresAt: v.expiresInHours ? new Date(Date.now() + v.expiresInHours * 3600_000) : null,
      createdById: opts.createdById,
    },
    include: { createdBy: { select: { email: true } } },
  });
  return { invite: (await infosOf(db, [row]))[0], url: `${opts.publicUrl}${INVITE_PATH}${code}` };
}

export async function listInvites(db: Db): Promise<InviteInfo[]> {
  const rows = await db.invite.findMany({ orderBy: { createdAt: 'desc' }, take: 200, include: { createdBy: { select: { email: true } } } });
  return infosOf(db, rows);
}

export async function revokeInvite(db: Db, id: string): Promise<void> {
  const done = await db.invite.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  if (done.count === 0 && !(await db.invite.findUnique({ where: { id } }))) throw new AccountError('not_found', 'there is no such invite');
}

/** The invite behind a link, for the learner's page: why it cannot be used, or what it offers. */
export async function openInvite(db: Db, code: string): Promise<InviteInfo> {
  const row = CODE_SHAPE.test(code) ? await db.invite.findUnique({ where: { hash: hash(code) } }) : null;
  if (!row) throw new AccountError('not_found', 'This invite link is not valid. Ask your instructor for the link again.');
  const [info] = await infosOf(db, [row]);
  if (info.status === 'revoked') throw new AccountError('expired', 'This invite was withdrawn by its instructor.');
  if (info.status === 'expired') throw new AccountError('expired', 'This invite has expired. Ask your instructor for a new one.');
  return info;
}

/**
 * May this learner start `lab` through this invite? A learner who has a seat keeps it; a new
 * one needs a free seat. Throws why not.
 */
export async function admit(db: Db, invite: InviteInfo, learnerId: string, lab: string): Promise<void> {
  if (!invite.labs.includes(lab)) throw new AccountError('invalid', `this invite is not for the lab "${lab.slice(0, 63)}"`);
  if (invite.seats === null) return;
  const seated = await db.session.count({ where: { inviteId: invite.id, learnerId } });
  if (!seated && invite.seatsTaken >= invite.seats)
    throw new AccountError('full', `This workshop is full: all ${invite.seats} seats are taken. Ask your instructor.`);
}

/** Files a session started through an invite under it, with the learner's name. */
export async function recordInviteSession(db: Db, sessionId: string, inviteId: string, learnerName: string | undefined): Promise<void> {
  await db.session.update({ where: { id: sessionId }, data: { inviteId, learnerName: learnerName || null } });
}
