import crypto from 'node:crypto';
import { runtime } from '@/lib/runtime';
import { handle, json } from '@/lib/http/route';
import { PEER_HEADER } from '@/lib/http/limits';
import { databaseHealth } from '@/lib/db/health';
import type { Problem } from '@/lib/environments/driver';
import type { Health } from '@/lib/http/api/responses';

export const dynamic = 'force-dynamic';

/**
 * GET /api/v1/health → {ok, labs}; operators also get `drivers: {name: problems[]}` (what each
 * driver is missing, host settings) and `database` (whether it can be written, why not, the last
 * fault a request met): from loopback, or with `Authorization: Bearer $LABFORGE_OPERATOR_TOKEN`.
 * Anyone else learns only whether the server is up and can save. Not ok (the database cannot be
 * written: read-only, disk full, I/O error) answers 503 with a `reason`.
 */
export async function GET(req: Request) {
  return handle(async () => {
    const rt = runtime();
    const labs = rt.catalog.list().length;
    const database = rt.db ? await databaseHealth(rt.db, rt.config.databaseUrl, rt.log) : { ok: true };
    const ok = database.ok;
    const status = ok ? 200 : 503;
    if (!isOperator(req, rt.config.operatorToken))
      return json((ok ? { ok, labs } : { ok, labs, reason: 'the platform cannot save right now' }) satisfies Health, { status });
    const drivers: Record<string, Problem[]> = {};
    for (const [name, d] of Object.entries(rt.drivers)) drivers[name] = await d.prerequisites();
    return json({ ok, labs, ...(ok ? {} : { reason: `database: ${database.reason}` }), database, drivers } satisfies Health, { status });
  });
}

function isOperator(req: Request, token: string | undefined): boolean {
  const auth = req.headers.get('authorization');
  if (token && auth?.startsWith('Bearer ')) {
    const digest = (s: string) => crypto.createHash('sha256').update(s).digest();
    if (crypto.timingSafeEqual(digest(auth.slice(7).trim()), digest(token))) return true;
  }
  return fromLoopback(req);
}

/**
 * A request from this machine: server.ts records the socket's peer (a client cannot set it), and
 * Next adds it as X-Forwarded-For when the request has none. A reverse proxy on this machine
 * connects from loopback too, but says whom for in X-Forwarded-For or Forwarded: such a request is
 * local only if everyone it was forwarded for is.
 */
function fromLoopback(req: Request): boolean {
  const peer = req.headers.get(PEER_HEADER);
  if (!peer || !isLoopback(peer) || req.headers.has('forwarded')) return false;
  const forwardedFor = (req.headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return forwardedFor.every(isLoopback);
}

const isLoopback = (addr: string) => /^(::ffff:)?127(\.\d{1,3}){3}$/i.test(addr) || addr === '::1' || addr === '[::1]';
