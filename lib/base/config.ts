/**
 * Configuration from the environment, read once. Every knob has a default that
 * works on a fresh machine; the README's settings table lists them.
 */
import path from 'node:path';
import { z } from 'zod';
import { parseEngines } from './engine-list';

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
  /** Environments prepared at once (create, track setup, first challenge); the rest wait their turn. Unset: from the CPU count. */
  LABFORGE_PROVISION_CONCURRENCY: z.coerce.number().int().positive().optional(),
  /** Checks whose scripts run at once across all sessions; the rest wait. Unset: from the CPU count. */
  LABFORGE_CHECK_CONCURRENCY: z.coerce.number().int().positive().optional(),
  /** Warm pools: `lab=size,lab=size` (e.g. multicast-basics=2). */
  LABFORGE_POOL: z.string().default(''),
  LABFORGE_POOL_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
  /** `off` when the operator keeps learner bridges away from the host themselves (docs/security.md). */
  LABFORGE_HOST_FIREWALL: z.enum(['on', 'off']).default('on'),
  /** How often a running server looks for broken environments and leftovers. */
  LABFORGE_RECONCILE_SECONDS: z.coerce.number().int().positive().default(60),
  /** How often a running server asks the engine about live sessions' hosts (a stopped host is shown to its learner within this). */
  LABFORGE_WATCH_SECONDS: z.coerce.number().int().positive().default(10),
  /** require | best-effort | off: limiting each host's writable layer needs an XFS (pquota) data root. */
  LABFORGE_DISK_LIMITS: z.enum(['require', 'best-effort', 'off']).default('best-effort'),
  /** Debian mirror for building images; defaults to the machine's own apt configuration. */
  LABFORGE_DEBIAN_MIRROR: z.string().optional(),
  /** A folder or http(s) URL holding the release binaries built-in images download (kubectl, helm, ...), for hosts without internet. */
  LABFORGE_DOWNLOAD_MIRROR: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  /** Several Docker engines, `name=url` each (lib/environments/docker/engines.ts); unset: the one of DOCKER_HOST. */
  LABFORGE_DOCKER_ENGINES: z.string().default(''),
  /** How long an engine of the fleet may stay silent before its sessions are failed (a restart takes seconds). */
  LABFORGE_ENGINE_DOWN_SECONDS: z.coerce.number().int().positive().default(60),
  /** Replicas sharing one PostgreSQL: how often each says it is alive, and after how long unseen it is gone (its jobs move). */
  LABFORGE_REPLICA_HEARTBEAT_SECONDS: z.coerce.number().positive().default(5),
  LABFORGE_REPLICA_DEAD_SECONDS: z.coerce.number().positive().default(20),
  /** Where the other replicas reach this one (terminal sockets are relayed there); default http://127.0.0.1:PORT. */
  LABFORGE_REPLICA_URL: z.preprocess((v) => (v === '' ? undefined : v), z.string().url('LABFORGE_REPLICA_URL: not a URL').optional()),
  /** kind's own variable: the Docker network its nodes join (kind is spawned with this environment, so it reads it too). */
  KIND_EXPERIMENTAL_DOCKER_NETWORK: z.string().min(1).optional(),
  /** Bearer token that shows operators the health detail from anywhere (from loopback it needs none). */
  LABFORGE_OPERATOR_TOKEN: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(16, 'LABFORGE_OPERATOR_TOKEN: use at least 16 characters').optional(),
  ),
  /** Bearer token a scraper sends for GET /metrics from another machine (from loopback it needs none; unset: loopback only). */
  LABFORGE_METRICS_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'LABFORGE_METRICS_TOKEN: use at least 16 characters').optional()),
  /** Live (provisioning or active) sessions a learner may hold of one lab, and in all. */
  LABFORGE_MAX_SESSIONS_PER_LAB: z.coerce.number().int().positive().default(1),
  LABFORGE_MAX_SESSIONS_PER_LEARNER: z.coerce.number().int().positive().default(3),
  /** Requests per minute, overriding RATE_LIMITS below: `create.learner=10,check.address=300` (0 turns one off). */
  LABFORGE_RATE_LIMITS: z.string().default(''),
  /** 1: the client address is the last entry of X-Forwarded-For (set it only behind a proxy that writes that header). */
  LABFORGE_TRUST_PROXY: z.enum(['0', '1', 'true', 'false']).default('0'),
  /** The first admin's account, made at start when it does not exist (otherwise start prints a one-time setup link). */
  LABFORGE_ADMIN_EMAIL: z.preprocess((v) => (v === '' ? undefined : v), z.string().email('LABFORGE_ADMIN_EMAIL: not an email address').optional()),
  LABFORGE_ADMIN_PASSWORD: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
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
    labsDirs: raw.LABFORGE_LABS_DIR.split(':')
      .filter(Boolean)
      .map((d) => path.resolve(d)),
    authorMode: raw.LABFORGE_AUTHOR_MODE === '1' || raw.LABFORGE_AUTHOR_MODE === 'true',
    databaseUrl: raw.DATABASE_URL ?? `file:${path.join(dataDir, 'labforge.db')}`,
    allowedOrigins: publicUrls.map((u) => new URL(u).origin),
    /** Where learners reach this server (the first LABFORGE_PUBLIC_URL): links handed out, e.g. join links, start here. */
    publicUrl: publicUrls[0] ?? `http://localhost:${raw.PORT}`,
    terminalGraceMs: raw.LABFORGE_TERMINAL_GRACE_SECONDS * 1000,
    logLevel: raw.LABFORGE_LOG_LEVEL,
    debianMirror: raw.LABFORGE_DEBIAN_MIRROR,
    downloadMirror: raw.LABFORGE_DOWNLOAD_MIRROR,
    kindNetwork: raw.KIND_EXPERIMENTAL_DOCKER_NETWORK,
    dockerEngines: parseEngines(raw.LABFORGE_DOCKER_ENGINES),
    engineDownMs: raw.LABFORGE_ENGINE_DOWN_SECONDS * 1000,
    replicaHeartbeatMs: raw.LABFORGE_REPLICA_HEARTBEAT_SECONDS * 1000,
    replicaUrl: (raw.LABFORGE_REPLICA_URL ?? `http://127.0.0.1:${raw.PORT}`).replace(/\/$/, ''),
    replicaDeadMs: Math.max(raw.LABFORGE_REPLICA_DEAD_SECONDS, 2 * raw.LABFORGE_REPLICA_HEARTBEAT_SECONDS) * 1000,
    operatorToken: raw.LABFORGE_OPERATOR_TOKEN,
    metricsToken: raw.LABFORGE_METRICS_TOKEN,
    maxEnvironments: raw.LABFORGE_MAX_ENVIRONMENTS,
    capacityReserve: raw.LABFORGE_CAPACITY_RESERVE,
    provisionConcurrency: raw.LABFORGE_PROVISION_CONCURRENCY,
    checkConcurrency: raw.LABFORGE_CHECK_CONCURRENCY,
    pools: parsePools(raw.LABFORGE_POOL),
    poolTtlMs: raw.LABFORGE_POOL_TTL_SECONDS * 1000,
    maxSessionsPerLab: raw.LABFORGE_MAX_SESSIONS_PER_LAB,
    maxSessionsPerLearner: raw.LABFORGE_MAX_SESSIONS_PER_LEARNER,
    rateLimits: parseRateLimits(raw.LABFORGE_RATE_LIMITS),
    trustProxy: raw.LABFORGE_TRUST_PROXY === '1' || raw.LABFORGE_TRUST_PROXY === 'true',
    hostFirewall: raw.LABFORGE_HOST_FIREWALL,
    reconcileMs: raw.LABFORGE_RECONCILE_SECONDS * 1000,
    watchMs: raw.LABFORGE_WATCH_SECONDS * 1000,
    diskLimits: raw.LABFORGE_DISK_LIMITS,
    admin: raw.LABFORGE_ADMIN_EMAIL && raw.LABFORGE_ADMIN_PASSWORD ? { email: raw.LABFORGE_ADMIN_EMAIL, password: raw.LABFORGE_ADMIN_PASSWORD } : undefined,
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

/**
 * Requests per minute per learner (cookie) and per client address, enforced by lib/http/limits.ts
 * on the calls that cost the platform something. Address limits are generous: a classroom behind
 * one NAT shares one address.
 */
export const RATE_LIMITS = {
  'create.learner': 10,
  'create.address': 30,
  'check.learner': 30,
  'check.address': 300,
  'token.learner': 60,
  'token.address': 600,
  // A restart starts a container and re-checks the host firewall: a few a minute is plenty.
  'restart.learner': 10,
  'restart.address': 100,
  // Sign-ins are counted per email and per address: guessing one password, or many accounts' from one place, is slow.
  'login.learner': 10,
  'login.address': 30,
} as const;
export type RateLimitName = keyof typeof RATE_LIMITS;

/** `create.learner=5,check.address=0` over RATE_LIMITS; an unknown name is a clear error at start. */
function parseRateLimits(spec: string): Record<RateLimitName, number> {
  const out: Record<RateLimitName, number> = { ...RATE_LIMITS };
  for (const entry of spec
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([a-z]+\.[a-z]+)=(\d+)$/.exec(entry);
    if (!m) throw new Error(`LABFORGE_RATE_LIMITS: "${entry}" should look like create.learner=10 (requests per minute; 0 turns it off)`);
    if (!(m[1] in RATE_LIMITS)) throw new Error(`LABFORGE_RATE_LIMITS: unknown limit "${m[1]}" (known: ${Object.keys(RATE_LIMITS).join(', ')})`);
    out[m[1] as RateLimitName] = Number(m[2]);
  }
  return out;
}
