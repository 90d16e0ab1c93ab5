/**
 * What the webhook tests share: a migrated database (test/support/database.ts), sessions written through
 * the session layer's repository (so its events are the real ones), and a real HTTP receiver on
 * localhost that answers from a script and verifies signatures with the docs' Node snippet.
 * Not a test file itself.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { log } from '../../lib/base/log';
import { createDb, type Db } from '../../lib/db/client';
import type { Lab } from '../../lib/labs/schema';
import { SessionRepository } from '../../lib/sessions/repository';
import { WebhookDispatcher, type DispatcherOptions } from '../../lib/webhooks/dispatcher';
import { waitFor } from '../support/wait';
import { migratedDatabase } from '../support/database';

const ROOT = path.resolve(__dirname, '../..');

export async function testDb(name: string): Promise<{ db: Db; url: string; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `labforge-webhooks-${name}-`));
  const url = await migratedDatabase(dir);
  return { db: createDb(url), url, dir };
}

/** Empties what the tests write, between tests of one file. */
export async function clear(db: Db): Promise<void> {
  await db.$transaction([db.webhookSubscription.deleteMany(), db.webhookCursor.deleteMany(), db.event.deleteMany(), db.session.deleteMany()]);
}

/** Just what SessionRepository.create reads of a lab. */
export function fakeLab(slug: string, challenges = ['first', 'second', 'third']): Lab {
  return {
    track: { slug, title: slug, environment: { driver: 'docker' } },
    challenges: challenges.map((c, index) => ({ slug: c, index })),
  } as unknown as Lab;
}

let sessions = 0;

/** A session of `lab` written by the repository; `learnerRef` as a grader's token would set it. */
export async function newSession(db: Db, lab: Lab, learnerRef?: string) {
  const repo = new SessionRepository(db, () => new Date());
  const id = `s${++sessions}x${process.pid}`;
  await repo.create(id, lab, 'learner-cookie-id', { secret_password: 'hunter2' });
  if (learnerRef) await db.session.update({ where: { id }, data: { learnerRef } });
  const row = async () => (await db.session.findUnique({ where: { id } }))!;
  return { id, repo, row };
}

/** A session.active event (what provisioning writes), returning its Event id. */
export async function started(db: Db, lab: Lab): Promise<number> {
  const s = await newSession(db, lab);
  await s.repo.event(s.id, 'session.active', { ms: 1 });
  return (await db.event.findFirstOrThrow({ where: { sessionId: s.id, type: 'session.active' } })).id;
}

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number | 'hung';
  verified: boolean;
}

/** One answer of the receiver: a status, `hang` (no answer at all) or `slow` (200 after 150 ms). */
export type Answer = number | 'hang' | 'slow';

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Stops listening; `listen()` starts again on the same port (a receiver that was down). */
  close(): Promise<void>;
  listen(): Promise<void>;
}

type Verify = (secret: string, headers: http.IncomingHttpHeaders, rawBody: string) => boolean;
let verifySnippet: Promise<Verify> | undefined;

/** The Node snippet of docs/graders.md, written to a module and imported: the receiver verifies exactly as documented. */
export function docsVerifier(): Promise<Verify> {
  verifySnippet ??= (async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-snippet-')), 'verify.mjs');
    fs.writeFileSync(file, docsSnippet('js'));
    const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { verifyLabforge: Verify };
    return mod.verifyLabforge;
  })();
  return verifySnippet;
}

/** The fenced block of language `lang` in docs/graders.md's "Verifying a signature". */
export function docsSnippet(lang: 'js' | 'python'): string {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/graders.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Verifying a signature'));
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  if (!m) throw new Error(`no ${lang} snippet in docs/graders.md`);
  return m[1];
}

/**
 * A receiver on 127.0.0.1 that answers requests with `answers` in turn, then 200 (or with
 * `answer(body)` when given). Every request is kept with whether its signature verified.
 */
export async function receiver(secret: () => string, answers: Answer[] | ((body: string) => Answer) = []): Promise<Receiver> {
  const verify = await docsVerifier();
  const received: Received[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const answer = typeof answers === 'function' ? answers(body) : (answers[n++] ?? 200);
      const status = answer === 'slow' ? 200 : answer;
      received.push({ headers: req.headers, body, status: status === 'hang' ? 'hung' : status, verified: verify(secret(), req.headers, body) });
      if (status === 'hang') return;
      const reply = () => res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : `failing on purpose (${status})`);
      setTimeout(reply, answer === 'slow' ? 150 : 0);
    });
  });
  const r: Receiver = {
    url: '',
    port: 0,
    received,
    listen: () => new Promise((resolve) => server.listen(r.port, '127.0.0.1', () => resolve())),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  await r.listen();
  r.port = (server.address() as { port: number }).port;
  r.url = `http://127.0.0.1:${r.port}/hook`;
  return r;
}

/** Small delays, so retries happen in milliseconds (the timeout has room for a loaded machine). */
export const FAST: DispatcherOptions = { pollMs: 20, backoffBaseMs: 20, maxBackoffMs: 100, timeoutMs: 2000 };

export const dispatcher = (db: Db, opts: DispatcherOptions = {}) => new WebhookDispatcher(db, log, { ...FAST, ...opts });

/** Waits until `cond` holds (checked every 10 ms), failing after `ms`: the shared waitFor, condition first. */
export const until = (cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'the condition'): Promise<unknown> => waitFor(what, cond, ms, 10);

/** The event ids of what a receiver got, in order. */
export const ids = (r: Receiver) => r.received.map((x) => (JSON.parse(x.body) as { id: string }).id);
