/**
 * The secret scan of the tamper suite: lf-scan (programs.ts), started sandboxed in every host
 * right after the hosts are created (before track setup), stopped at the end of a test, its log
 * parsed and judged. Not a test file itself.
 */
import { expect } from 'vitest';
import type { Environment } from '../../lib/environments/driver';
import { compile, SCAN_C } from './programs';
import { asLearner, asPlatform, ok, sessionVars, until, type Live, type Suite } from './support';

const BIN = '/var/tmp/lf-scan';
const LOG = '/var/tmp/lf-scan.log';
const STOP = '/var/tmp/lf-scan.stop';

export interface Round {
  n: number;
  t0: number;
  t1: number;
  full: boolean;
  denied: number;
  /** The longest time between two /proc passes during this walk. */
  procGap: number;
}
export interface Hit {
  host: string;
  t: number;
  where: 'file' | 'environ' | 'cmdline';
  path: string;
}
export interface ScanReport {
  host: string;
  start: number;
  rounds: Round[];
  hits: Hit[];
  log: string;
}

/** The secret and, for a payload sent base64-encoded somewhere, its base64 form (whole groups only). */
export function needles(secret: string): string[] {
  const whole = secret.slice(0, secret.length - (secret.length % 3));
  return [secret, Buffer.from(whole).toString('base64')];
}

/** lf-scan's argument: each needle reversed, in hex, so its command line holds none of them. */
const arg = (list: string[]) => list.map((n) => Buffer.from(n).reverse().toString('hex')).join(',');

/** Starts lf-scan as the learner in every host of `env` (a walk every `walkMs`); returns when each has logged START. */
export async function startScanners(live: Live, secrets: string[], walkMs = 1000): Promise<void> {
  const bin = await compile('lf-scan', SCAN_C, ['-static', '-O2']);
  await Promise.all(
    live.env.hosts.map(async ({ name }) => {
      await live.s.driver.writeFile(live.env, name, BIN, bin, 0o755);
      await ok(
        asLearner(live, name, `rm -f ${LOG} ${STOP}; nohup ${BIN} ${arg(secrets)} ${LOG} ${STOP} ${walkMs} </dev/null >/dev/null 2>&1 &`),
        `starting lf-scan in ${name}`,
      );
      await until(`lf-scan START in ${name}`, async () => (await asPlatform(live, name, `cat ${LOG} 2>/dev/null`)).stdout.includes('START'), 30_000);
    }),
  );
}

/**
 * Makes `suite.driver` start the scanners in every new environment before any script runs,
 * looking for `pick(variables)` of the session that owns it. Returns the time each hook finished.
 */
export function scanEveryNewEnvironment(suite: Suite, pick: (vars: Record<string, string>) => string[], walkMs = 1000): Map<string, number> {
  const ready = new Map<string, number>();
  suite.driver.afterCreate = async (env: Environment) => {
    const vars = await sessionVars(suite, env.owner);
    await startScanners({ s: suite, id: env.owner, env }, pick(vars), walkMs);
    ready.set(env.owner, Date.now());
  };
  return ready;
}

export async function stopScanners(live: Live): Promise<ScanReport[]> {
  return Promise.all(
    live.env.hosts.map(async ({ name }) => {
      await ok(asPlatform(live, name, `touch ${STOP}`), 'stopping lf-scan');
      const log = await until(
        `lf-scan EXIT in ${name}`,
        async () => {
          const text = (await asPlatform(live, name, `cat ${LOG}`)).stdout;
          return /^EXIT /m.test(text) && text;
        },
        60_000,
        250,
      );
      return parse(name, log);
    }),
  );
}

function parse(host: string, log: string): ScanReport {
  const start = Number(/^START (\d+)/m.exec(log)?.[1]);
  const rounds = [...log.matchAll(/^ROUND (\d+) (\d+) (\d+) full=(\d) files=\d+ procs=\d+ denied=(\d+) passes=\d+ procgap=(\d+)$/gm)].map((m) => ({
    n: Number(m[1]),
    t0: Number(m[2]),
    t1: Number(m[3]),
    full: m[4] === '1',
    denied: Number(m[5]),
    procGap: Number(m[6]),
  }));
  const hits = [...log.matchAll(/^HIT (\d+) (file|environ|cmdline) (.*)$/gm)].map((m) => ({ host, t: Number(m[1]), where: m[2] as Hit['where'], path: m[3] }));
  return { host, start, rounds, hits, log };
}

/**
 * The scan really ran the whole time: it started before `from`, a walk ended after `to`, no walk
 * began more than `maxGapMs` after the one before it ended, and /proc was read at least every `maxProcGapMs`.
 */
export function expectCoverage(r: ScanReport, from: number, to: number, maxGapMs: number, maxProcGapMs = 2000): void {
  expect(r.start, `${r.host}: lf-scan started before the first script`).toBeLessThanOrEqual(from);
  expect(r.rounds.length, `${r.host}: walks`).toBeGreaterThan(2);
  expect(r.rounds[0].t0 - r.start, `${r.host}: the first walk began at once`).toBeLessThan(1000);
  expect(r.rounds.at(-1)!.full, `${r.host}: the last walk read every file`).toBe(true);
  expect(r.rounds.at(-1)!.t1, `${r.host}: a walk ended after the last phase`).toBeGreaterThanOrEqual(to);
  expect(Math.max(...gaps(r)), `${r.host}: longest time between two walks`).toBeLessThanOrEqual(maxGapMs);
  expect(procGap(r), `${r.host}: longest time between two /proc passes`).toBeLessThanOrEqual(maxProcGapMs);
}

const gaps = (r: ScanReport) => r.rounds.slice(1).map((x, i) => x.t0 - r.rounds[i].t1);
/** Up to the last walk, which reads every file after the test's phases are over. */
const procGap = (r: ScanReport) => Math.max(0, ...r.rounds.slice(0, -1).map((x) => x.procGap), r.rounds.at(-1)?.full ? 0 : (r.rounds.at(-1)?.procGap ?? 0));

/** One line per host, for the report. */
export function summary(reports: ScanReport[]): string {
  return reports
    .map((r) => {
      const most = (f: (x: Round) => number) => Math.max(0, ...r.rounds.map(f));
      return `${r.host}: ${r.rounds.length} walks (${r.rounds.filter((x) => x.full).length} full), longest gap between walks ${Math.max(0, ...gaps(r))} ms, between /proc passes ${procGap(r)} ms, up to ${most((x) => x.denied)} environ reads refused per walk, ${r.hits.length} hits`;
    })
    .join('\n');
}
