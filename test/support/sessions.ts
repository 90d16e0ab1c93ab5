/**
 * A SessionService over a real database (test/support/database.ts) and a real Docker driver, on labs in a temp
 * dir (copied from a folder, or written from inline files): what the session-level tests
 * share. Not a test file itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb, type Db } from '../../lib/db/client';
import { DockerDriver } from '../../lib/environments/docker/driver';
import { LabCatalog } from '../../lib/labs/catalog';
import { log } from '../../lib/base/log';
import type { SessionDeps } from '../../lib/sessions/deps';
import { SessionService } from '../../lib/sessions/service';
import { migratedDatabase } from './database';

export interface SessionHarness {
  /** The temp dir: labs under `labs/`, the database beside them. */
  dir: string;
  driver: DockerDriver;
  db: Db;
  catalog: LabCatalog;
  /** A fresh service on the same database: what a restarted server would have. */
  service(extra?: Partial<SessionDeps>): SessionService;
  /** Waits until the session leaves provisioning; throws unless it is active. */
  active(svc: SessionService, id: string, learner: string): Promise<void>;
  close(): Promise<void>;
}

/** `copy`: a lab folder to copy in; `files`: paths under `labs/` (e.g. `my-lab/track.yml`) and their text. */
export type LabsSource = { copy: string } | { files: Record<string, string> };

/** track.yml of a small lab: hosts of labforge/base (default: one `workstation`), each with `memory`. */
export const dockerTrack = (slug: string, title: string, hosts = ['workstation'], memory = '128Mi') => `slug: ${slug}
title: ${title}
environment:
  driver: docker
  hosts:
${hosts.map((h) => `    - name: ${h}\n      image: labforge/base\n      resources: { memory: ${memory}, cpus: 0.5, pids: 128 }\n`).join('')}`;

/** track.yml of a small lab: one `workstation` host of labforge/base. */
export const oneHostTrack = (slug: string, title: string) => dockerTrack(slug, title);

/** assignment.md of a challenge with one terminal tab on `workstation`. */
export const shellChallenge = (slug: string, title: string, body: string) => `---
slug: ${slug}
title: ${title}
tabs:
  - { title: Shell, type: terminal, hostname: workstation }
---
${body}
`;

const SCRIPT = /(^|\/)(setup|check|solve|cleanup)-[^/]+$/;

/** Writes `labs` into `labsDir` (scripts executable) and loads them: the catalog. */
export async function labCatalog(labsDir: string, labs: LabsSource): Promise<LabCatalog> {
  if ('copy' in labs) fs.cpSync(labs.copy, path.join(labsDir, path.basename(labs.copy)), { recursive: true });
  else
    for (const [rel, text] of Object.entries(labs.files)) {
      const file = path.join(labsDir, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text, { mode: SCRIPT.test(rel) ? 0o755 : 0o644 });
    }
  const catalog = new LabCatalog(labsDir);
  await catalog.load();
  return catalog;
}

export async function sessionHarness(name: string, labs: LabsSource): Promise<SessionHarness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `labforge-${name}-`));
  const catalog = await labCatalog(path.join(dir, 'labs'), labs);
  const db = createDb(await migratedDatabase(dir));
  const driver = new DockerDriver({ instance: `${name}-${process.pid}` });
  return {
    dir,
    driver,
    db,
    catalog,
    service: (extra = {}) => new SessionService({ db, catalog, drivers: { docker: driver }, log, ...extra }),
    async active(svc, id, learner) {
      for (const deadline = Date.now() + 180_000; ; await new Promise((r) => setTimeout(r, 250))) {
        const view = await svc.get(id, learner);
        if (view.status === 'active') return;
        if (view.status !== 'provisioning' || Date.now() > deadline) throw new Error(`session is ${view.status}: ${view.error ?? 'too slow'}`);
      }
    },
    async close() {
      for (const env of await driver.list()) await driver.destroyOwner(env.owner);
      await db.$disconnect();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the session's terminal tab as the gateway would (its driver, in its host), types `line`,
 * and returns what the shell printed once `expected` appears (or after 15 s), the terminal closed.
 */
export async function typeInTab(svc: SessionService, id: string, learner: string, tab: string, line: string, expected: string): Promise<string> {
  const target = await svc.terminalTarget(id, learner, tab);
  const pty = await target.driver.openTerminal(target.env, target.host, { cols: 80, rows: 24, terminalId: `test-${tab}-${Date.now()}` });
  let out = '';
  pty.onData((d) => (out += d.toString()));
  pty.write(`${line}\r`);
  for (const deadline = Date.now() + 15_000; !out.includes(expected) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 100));
  await pty.close();
  return out;
}
