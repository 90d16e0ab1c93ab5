/**
 * Readiness reports each failing dependency and why: injected checks that fail, throw or hang,
 * the shutdown flag, the short reuse of a report, the public view without operators' detail,
 * and the engine checks built from the drivers (only those that can be pinged).
 */
import { describe, expect, it } from 'vitest';
import type { EnvironmentDriver } from '../../lib/environments/driver';
import { engineChecks } from '../../lib/observability/dependencies';
import { publicReport, Readiness, SHUTTING_DOWN } from '../../lib/observability/readiness';

const ok = async () => ({ ok: true });

describe('readiness', () => {
  it('is ready when every dependency answers, and says so per dependency', async () => {
    const report = await new Readiness({ database: ok, docker: ok }).report();
    expect(report.ready).toBe(true);
    expect(report.failing).toEqual([]);
    expect(Object.keys(report.checks).sort()).toEqual(['database', 'docker', 'server']);
    expect(Object.values(report.checks).every((c) => c.ok && typeof c.ms === 'number')).toBe(true);
  });

  it('names each failing dependency and why: one that fails, one that throws, one that hangs', async () => {
    const readiness = new Readiness(
      {
        database: async () => ({ ok: false, reason: 'the database cannot be written', detail: 'read-only: /data/labforge.db' }),
        docker: async () => {
          throw new Error('connect ENOENT /var/run/docker.sock');
        },
        slow: () => new Promise(() => {}),
        fine: ok,
      },
      { timeoutMs: 50 },
    );
    const report = await readiness.report();
    expect(report.ready).toBe(false);
    expect(report.failing).toEqual([
      { dependency: 'database', reason: 'the database cannot be written', detail: 'read-only: /data/labforge.db' },
      { dependency: 'docker', reason: 'docker does not answer', detail: 'connect ENOENT /var/run/docker.sock' },
      { dependency: 'slow', reason: 'slow does not answer', detail: 'slow took longer than 50 ms' },
    ]);
    expect(report.checks.fine.ok).toBe(true);
    expect(report.checks.server).toMatchObject({ ok: true });

    // Anyone may read /readyz: the public view keeps the reasons and drops paths and errnos.
    const pub = publicReport(report);
    expect(JSON.stringify(pub)).not.toMatch(/ENOENT|\/data\/|docker\.sock/);
    expect(pub.failing.map((f) => f.dependency)).toEqual(['database', 'docker', 'slow']);
    expect(pub.checks.database).toEqual({ ok: false, reason: 'the database cannot be written', ms: expect.any(Number) });
  });

  it('is not ready once shutting down, even with a report still fresh', async () => {
    const readiness = new Readiness({ database: ok }, { maxAgeMs: 60_000 });
    expect((await readiness.report()).ready).toBe(true);
    readiness.shuttingDown();
    const report = await readiness.report();
    expect(report.ready).toBe(false);
    expect(report.failing).toEqual([{ dependency: 'server', reason: SHUTTING_DOWN }]);
    expect(report.checks.database.ok).toBe(true);
  });

  it('reuses a report for a moment, so a flood of probes costs one round of checks', async () => {
    let calls = 0;
    let t = 0;
    const readiness = new Readiness({ database: async () => (calls++, { ok: true }) }, { maxAgeMs: 1000, now: () => t });
    await Promise.all([readiness.report(), readiness.report(), readiness.report()]);
    t = 999;
    await readiness.report();
    expect(calls).toBe(1);
    t = 1000;
    await readiness.report();
    expect(calls).toBe(2);
  });
});

describe('engine checks', () => {
  const driver = (ping?: () => Promise<void>) => ({ name: 'x', ...(ping ? { ping } : {}) }) as unknown as EnvironmentDriver;

  it('pings the drivers that can be pinged, and only those', async () => {
    const checks = engineChecks({
      docker: driver(async () => {}),
      kind: driver(),
      remote: driver(async () => {
        throw new Error('connect ECONNREFUSED 10.0.0.9:2376');
      }),
    });
    expect(Object.keys(checks).sort()).toEqual(['docker', 'remote']);
    expect(await checks.docker()).toEqual({ ok: true });
    expect(await checks.remote()).toEqual({ ok: false, reason: 'the remote engine does not answer', detail: 'connect ECONNREFUSED 10.0.0.9:2376' });
  });
});
