/**
 * A SessionService over a real SQLite database and a real Docker driver, with a lab folder
 * copied into a temp dir: what the session-level tests share. Not a test file itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb, migrate, type Db } from '../../lib/db/client';
import { DockerDriver } from '../../lib/environments/docker';
import { LabCatalog } from '../../lib/labs/catalog';
import { log } from '../../lib/log';
import { SessionService, type SessionDeps } from '../../lib/sessions/service';

export interface SessionHarness {
  driver: DockerDriver;
  db: Db;
  catalog: LabCatalog;
  /** A fresh service on the same database: what a restarted server would have. */
  service(extra?: Partial<SessionDeps>): SessionService;
  /** Waits until the session leaves provisioning; throws unless it is active. */
  active(svc: SessionService, id: string, learner: string): Promise<void>;
  close(): Promise<void>;
}

export async function sessionHarness(labDir: string, name: string): Promise<SessionHarness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `labforge-${name}-`));
  fs.cpSync(labDir, path.join(dir, 'labs', path.basename(labDir)), { recursive: true });
  const url = `file:${path.join(dir, 'test.db')}`;
  await migrate(url, path.resolve(__dirname, '../..'));
  const db = createDb(url);
  const catalog = new LabCatalog(path.join(dir, 'labs'));
  await catalog.load();
  const driver = new DockerDriver({ instance: `${name}-${process.pid}` });
  return {
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
