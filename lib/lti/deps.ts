/**
 * What LTI's request handlers need of the running server, passed in by the app/lti routes (which
 * hold the runtime): lib/lti itself never reaches for the composed runtime.
 */
import type { Logger } from '../base/log';
import type { Db } from '../db/client';
import type { LabCatalog } from '../labs/catalog';
import type { SessionService } from '../sessions/service';

export interface LtiDeps {
  db: Db;
  config: { publicUrl: string; allowedOrigins: string[] };
  catalog: Pick<LabCatalog, 'get' | 'list'>;
  sessions: Pick<SessionService, 'start'>;
  log: Logger;
}
