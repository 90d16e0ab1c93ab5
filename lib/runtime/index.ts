/**
 * The live server's services, shared between server.ts and Next's route
 * handlers. Next bundles route handlers separately, so a module-level singleton
 * would be a different instance there: the runtime lives on globalThis instead,
 * and route handlers only import this getter (plus types).
 */
import type { Config } from '../base/config';
import type { Db } from '../db/client';
import type { EnvironmentDriver } from '../environments/driver';
import type { LabCatalog } from '../labs/catalog';
import type { SessionService } from '../sessions/service';
import type { TokenStore } from '../auth/tokens';
import type { Logger } from '../base/log';

export interface Runtime {
  config: Config;
  db: Db;
  catalog: LabCatalog;
  drivers: Record<string, EnvironmentDriver>;
  sessions: SessionService;
  tokens: TokenStore;
  log: Logger;
}

const KEY = Symbol.for('labforge.runtime');
type Holder = { [KEY]?: Runtime };

export function setRuntime(r: Runtime | undefined): void {
  (globalThis as Holder)[KEY] = r;
}

export function runtime(): Runtime {
  const r = (globalThis as Holder)[KEY];
  if (!r) throw new Error('Labforge runtime is not started: run the app with `labforge serve` (server.ts), not `next start`.');
  return r;
}
