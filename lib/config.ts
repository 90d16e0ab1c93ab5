/**
 * Configuration from the environment, read once. Every knob has a default that
 * works on a fresh machine; docs/configuration.md lists them.
 */
import path from 'node:path';
import { z } from 'zod';

const schema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LABFORGE_DATA_DIR: z.string().default('./data'),
  /** Where labs are loaded from; several directories separated by `:`. */
  LABFORGE_LABS_DIR: z.string().default('./labs'),
  /** Author mode: a session may start at any challenge (earlier ones are solved by their solve scripts). */
  LABFORGE_AUTHOR_MODE: z.enum(['0', '1', 'true', 'false']).default('0'),
  /** Comma-separated origins allowed to open terminal WebSockets. Defaults to http://localhost:PORT and 127.0.0.1. */
  LABFORGE_PUBLIC_URL: z.string().optional(),
  DATABASE_URL: z.string().optional(),
  LABFORGE_TERMINAL_GRACE_SECONDS: z.coerce.number().int().positive().default(600),
  LABFORGE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** At most this many environments at once (each costs 1); unset: a memory budget derived from the host. */
  LABFORGE_MAX_ENVIRONMENTS: z.coerce.number().int().positive().optional(),
  /** Share of host memory kept free of environments when no maximum is set. */
  LABFORGE_CAPACITY_RESERVE: z.coerce.number().min(0).max(0.9).default(0.25),
  /** Warm pools: `lab=size,lab=size` (e.g. multicast-basics=2). */
  LABFORGE_POOL: z.string().default(''),
  LABFORGE_POOL_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
  /** Debian mirror for building images; defaults to the machine's own apt configuration. */
  LABFORGE_DEBIAN_MIRROR: z.string().optional(),
});

export type Config = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const raw = schema.parse(env);
  const dataDir = path.resolve(raw.LABFORGE_DATA_DIR);
  const publicUrls = (raw.LABFORGE_PUBLIC_URL ?? `http://localhost:${raw.PORT},http://127.0.0.1:${raw.PORT}`)
    .split(',')
    .map((u) => u.trim().replace(/\/$/, ''))
    .filter(Boolean);
  return {
    port: raw.PORT,
    host: raw.HOST,
    dataDir,
    labsDirs: raw.LABFORGE_LABS_DIR.split(':').filter(Boolean).map((d) => path.resolve(d)),
    authorMode: raw.LABFORGE_AUTHOR_MODE === '1' || raw.LABFORGE_AUTHOR_MODE === 'true',
    databaseUrl: raw.DATABASE_URL ?? `file:${path.join(dataDir, 'labforge.db')}`,
    allowedOrigins: publicUrls.map((u) => new URL(u).origin),
    terminalGraceMs: raw.LABFORGE_TERMINAL_GRACE_SECONDS * 1000,
    logLevel: raw.LABFORGE_LOG_LEVEL,
    debianMirror: raw.LABFORGE_DEBIAN_MIRROR,
    maxEnvironments: raw.LABFORGE_MAX_ENVIRONMENTS,
    capacityReserve: raw.LABFORGE_CAPACITY_RESERVE,
    pools: parsePools(raw.LABFORGE_POOL),
    poolTtlMs: raw.LABFORGE_POOL_TTL_SECONDS * 1000,
  };
}

/** `a=2,b=1` → [{lab: 'a', size: 2}, ...]; a bad entry is a clear error at start. */
function parsePools(spec: string): { lab: string; size: number }[] {
  return spec
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^([a-z0-9][a-z0-9-]*)=(\d+)$/.exec(entry);
      if (!m) throw new Error(`LABFORGE_POOL: "${entry}" should look like lab-slug=2`);
      return { lab: m[1], size: Number(m[2]) };
    });
}
