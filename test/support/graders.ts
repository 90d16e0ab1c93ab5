/**
 * What the grader tests share: a real database (migrated: test/support/database.ts), two labs (`alpha`, `beta`) on
 * the in-memory driver, a real SessionService, and the runtime the route handlers read, with a
 * configuration from loadConfig. Route handlers are called as Next calls them. Not a test file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { ApiTokens } from '../../lib/auth/api-tokens';
import { TokenStore } from '../../lib/auth/tokens';
import { loadConfig, type Config } from '../../lib/base/config';
import { log } from '../../lib/base/log';
import { createDb, type Db } from '../../lib/db/client';
import { resetRateLimits } from '../../lib/http/limits';
import { InProcessQueue } from '../../lib/jobs/queue';
import { LabCatalog } from '../../lib/labs/catalog';
import { setRuntime, type Runtime } from '../../lib/runtime';
import { SessionService } from '../../lib/sessions/service';
import { MemoryDriver } from './memory-driver';
import { migratedDatabase } from './database';
import { waitFor } from './wait';

export const PUBLIC_URL = 'https://labs.example.org';

const track = (slug: string) => `slug: ${slug}
title: Lab ${slug}
environment:
  driver: docker
  hosts:
    - name: workstation
      image: labforge/base
`;

/** Challenge 1 of each lab has a tab of every kind; challenge 2 is the last. */
const LAB_FILES = (slug: string): Record<string, string> => ({
  [`${slug}/track.yml`]: track(slug),
  [`${slug}/01-first/assignment.md`]: `---
slug: first
title: First
tabs:
  - { title: Shell, type: terminal, hostname: workstation }
  - { title: Notes, type: editor, hostname: workstation, path: /root/notes.txt }
  - { title: Web, type: service, hostname: workstation, port: 8080 }
  - { title: Traffic, type: traffic }
---
Do it.
`,
  [`${slug}/01-first/check-workstation`]: '#!/bin/bash\nexit 0\n',
  [`${slug}/02-last/assignment.md`]: '---\nslug: last\ntitle: Last\n---\nDone.\n',
  [`${slug}/02-last/check-workstation`]: '#!/bin/bash\nexit 0\n',
});

export interface GraderHarness {
  dir: string;
  db: Db;
  config: Config;
  svc: SessionService;
  /** The in-memory driver every session runs on (set `failWith` to make Checks fail). */
  driver: MemoryDriver;
  tokens: ApiTokens;
  close(): Promise<void>;
}

export async function graderHarness(name: string): Promise<GraderHarness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `labforge-${name}-`));
  const labsDir = path.join(dir, 'labs');
  for (const [rel, text] of Object.entries({ ...LAB_FILES('alpha'), ...LAB_FILES('beta') })) {
    fs.mkdirSync(path.dirname(path.join(labsDir, rel)), { recursive: true });
    fs.writeFileSync(path.join(labsDir, rel), text, { mode: rel.includes('check-') ? 0o755 : 0o644 });
  }
  const config = loadConfig({
    LABFORGE_DATA_DIR: dir,
    LABFORGE_LABS_DIR: labsDir,
    DATABASE_URL: await migratedDatabase(dir),
    LABFORGE_PUBLIC_URL: PUBLIC_URL,
  } as unknown as NodeJS.ProcessEnv);
  const db = createDb(config.databaseUrl);
  const catalog = new LabCatalog(labsDir);
  await catalog.load();
  expect(catalog.list().map((l) => l.track.slug)).toEqual(['alpha', 'beta']);
  const drivers = { docker: new MemoryDriver() };
  const jobs = new InProcessQueue(log);
  const svc = new SessionService({ db, catalog, drivers, log, jobs, sessionCaps: { perLab: 1, perLearner: 3 } });
  setRuntime({ config, db, catalog, drivers, sessions: svc, tokens: new TokenStore(), log } as Runtime);
  resetRateLimits();
  return {
    dir,
    db,
    config,
    svc,
    driver: drivers.docker,
    tokens: new ApiTokens(db),
    async close() {
      // Preparations a test started and left write in the background: they end before the database
      // closes. A write racing $disconnect leaves a PostgreSQL client in its transaction, and the
      // pool's end then waits for it forever (the LTI tests' teardown hung 1 run in 6).
      await waitFor('the preparations under way to end', async () => (await jobs.depth()).every((q) => q.active === 0), 10_000, 20);
      setRuntime(undefined);
      await db.$disconnect();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One token per case the routes must tell apart. `expired` was created two days ago for one day. */
export async function graderTokens(h: GraderHarness) {
  const make = (name: string, extra: Partial<Parameters<ApiTokens['create']>[0]> = {}, tokens = h.tokens) =>
    tokens.create({ name, labs: ['alpha'], ...extra }).then((t) => t.token);
  const twoDaysAgo = new ApiTokens(h.db, () => new Date(Date.now() - 2 * 86_400_000));
  const revoked = await make('revoked');
  await h.tokens.revoke('revoked');
  return {
    valid: await make('valid'),
    terminals: await make('terminals', { terminals: true }),
    other: await make('other', { labs: ['beta'], terminals: true }),
    revoked,
    expired: await make('expired', { expires: '1d' }, twoDaysAgo),
    /** Well formed, never created. */
    unknown: `lf_${'A'.repeat(43)}`,
  };
}

export type Handler<P> = (req: Request, ctx: { params: Promise<P> }) => Promise<Response>;

/** Calls a route handler the way Next does: `token` as a Bearer header, `cookie` as the learner cookie. */
export function call<P>(handler: Handler<P>, url: string, params: P, init: RequestInit & { token?: string; cookie?: string; json?: unknown } = {}) {
  const { token, cookie, json, ...rest } = init;
  const headers: Record<string, string> = { ...(rest.headers as Record<string, string>) };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (cookie) headers.cookie = `labforge_learner=${cookie}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  const req = new Request(`http://localhost${url}`, { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) });
  return handler(req, { params: Promise.resolve(params) });
}

/** Waits until the session is active (the in-memory driver takes a moment in the background). */
export async function whenActive(h: GraderHarness, id: string, learnerId: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 20))) {
    const view = await h.svc.get(id, learnerId);
    if (view.status === 'active') return;
    if (view.status !== 'provisioning' || Date.now() > deadline) throw new Error(`session is ${view.status}: ${view.error ?? 'too slow'}`);
  }
}
