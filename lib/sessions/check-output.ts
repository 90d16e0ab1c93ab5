/**
 * How much of a Check's output (every script's stdout/stderr, for instructors) is
 * stored: each CheckRun at most `perRun` bytes (long strings keep their head and
 * tail around a marker), each session at most `perSession` bytes in all (past it
 * the oldest runs' output is replaced by a note, so the newest stays). The
 * verdict (passed, message) is never touched.
 */
import type { Db } from '../db/client';

export interface CheckOutputLimits {
  perRun: number;
  perSession: number;
}

export const CHECK_OUTPUT: CheckOutputLimits = { perRun: 64 * 1024, perSession: 5 * 1024 * 1024 };

const kib = (n: number) => (n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.round(n / 1024)} KiB`);

/** What a run's output becomes when the session's budget needs its room. */
export const droppedOutput = (perSession: number) =>
  JSON.stringify([{ dropped: `output removed: a session keeps at most ${kib(perSession)} of check output, the newest checks' first` }]);

/** JSON with every non-ASCII character escaped: its length in characters is its length in bytes. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function shorten(value: unknown, limit: number, perRun: number): unknown {
  if (typeof value === 'string') {
    if (value.length <= limit) return value;
    const keep = Math.max(0, limit - 120);
    const head = Math.ceil(keep / 2);
    const tail = keep - head;
    const marker = `\n[labforge: ${value.length - keep} characters cut here; stored check output is capped at ${kib(perRun)} per check]\n`;
    return value.slice(0, head) + marker + (tail ? value.slice(-tail) : '');
  }
  if (Array.isArray(value)) return value.map((v) => shorten(v, limit, perRun));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shorten(v, limit, perRun)]));
  return value;
}

/** The JSON stored as a CheckRun's output: at most `perRun` bytes. */
export function storedOutput(output: unknown[], perRun = CHECK_OUTPUT.perRun): string {
  const full = asciiJson(output);
  if (full.length <= perRun) return full;
  // Shrink every long string to `limit` characters until the whole fits (escapes make JSON longer than its text).
  let limit = perRun;
  for (let i = 0; i < 12 && limit >= 256; i++) {
    const cut = asciiJson(shorten(output, limit, perRun));
    if (cut.length <= perRun) return cut;
    limit = Math.floor(limit * Math.min(0.9, perRun / cut.length));
  }
  return asciiJson([{ truncated: `output of ${full.length} bytes not stored: stored check output is capped at ${kib(perRun)} per check` }]);
}

/**
 * Ids of this session's earlier runs whose output must be dropped so that `incoming` more bytes
 * fit its budget, oldest first; `fits: false` when even dropping all of them is not enough.
 * Callers serialise checks per session (the session lock), so the sum cannot race.
 */
export async function outputToDrop(db: Db, sessionId: string, incoming: number, limits: CheckOutputLimits): Promise<{ drop: string[]; fits: boolean }> {
  // Stored output is ASCII (asciiJson), so LENGTH counts bytes; quoted identifiers work in SQLite and PostgreSQL.
  const rows = await db.$queryRaw<{ id: string; n: number | bigint }[]>`
    SELECT "id", LENGTH("output") AS "n" FROM "CheckRun" WHERE "sessionId" = ${sessionId} ORDER BY "createdAt" ASC`;
  const note = droppedOutput(limits.perSession).length;
  let total = incoming + rows.reduce((s, r) => s + Number(r.n), 0);
  const drop: string[] = [];
  for (const r of rows) {
    if (total <= limits.perSession) break;
    if (Number(r.n) <= note) continue;
    drop.push(r.id);
    total -= Number(r.n) - note;
  }
  return { drop, fits: total <= limits.perSession };
}
