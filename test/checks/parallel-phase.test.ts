/**
 * runPhase with `concurrency` (a lab's `parallel_setup`): hosts' scripts overlap, at most the
 * bound at once, and the report reads as in host order whatever finishes first. A fake driver
 * decides each host's outcome and delay; no engine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Environment, EnvironmentDriver, ExecResult } from '../../lib/environments/driver';
import { runPhase } from '../../lib/checks/scripts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-phase-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const HOSTS = ['workstation', 'luke', 'leia', 'han', 'chewie'];
const env: Environment = { driver: 'fake', owner: 'o', lab: 'l', meta: {}, hosts: HOSTS.map((name) => ({ name, ref: name, spec: undefined as never })) };
const scripts = {
  setup: Object.fromEntries(
    HOSTS.map((h) => {
      const file = path.join(dir, `setup-${h}`);
      fs.writeFileSync(file, '#!/bin/bash\ntrue\n');
      return [h, file];
    }),
  ),
};

/** A driver whose exec in `host` takes `delays[host]` ms and fails (FAIL: <host> broke) for hosts in `failing`. */
function fakeDriver(delays: Record<string, number>, failing: string[] = []) {
  const seen = { running: 0, most: 0, order: [] as string[] };
  const exec = async (_env: Environment, host: string): Promise<ExecResult> => {
    seen.running++;
    seen.most = Math.max(seen.most, seen.running);
    await new Promise((r) => setTimeout(r, delays[host] ?? 0));
    seen.running--;
    seen.order.push(host);
    const bad = failing.includes(host);
    return { exitCode: bad ? 1 : 0, stdout: bad ? `FAIL: ${host} broke\n` : '', stderr: '', timedOut: false, durationMs: 1 };
  };
  return { driver: { name: 'fake', exec } as unknown as EnvironmentDriver, seen };
}

describe('runPhase in parallel', () => {
  it('overlaps hosts up to the bound and reports runs in host order', async () => {
    const { driver, seen } = fakeDriver({ workstation: 60, luke: 10, leia: 40, han: 5, chewie: 20 });
    const started = Date.now();
    const r = await runPhase(driver, env, scripts, 'setup', HOSTS, 10_000, () => ({}), 3);
    expect(r.ok).toBe(true);
    expect(r.runs.map((x) => x.host)).toEqual(HOSTS);
    expect(seen.most).toBe(3);
    expect(seen.order[0]).not.toBe('workstation'); // it did run at the same time as others
    expect(Date.now() - started).toBeLessThan(60 + 10 + 40 + 5 + 20);
  });

  it('names the first failing host in host order, not the first to fail, and runs every host', async () => {
    // chewie fails first in time, luke first in host order.
    const { driver, seen } = fakeDriver({ workstation: 5, luke: 50, leia: 5, han: 5, chewie: 1 }, ['luke', 'chewie']);
    const r = await runPhase(driver, env, scripts, 'setup', HOSTS, 10_000, () => ({}), 8);
    expect(r.ok).toBe(false);
    expect(r.failure).toEqual({ host: 'luke', script: 'setup-luke', message: 'luke broke' });
    expect(r.runs.map((x) => x.host)).toEqual(HOSTS);
    expect(seen.order).toHaveLength(5);
    expect(seen.order.indexOf('chewie')).toBeLessThan(seen.order.indexOf('luke'));
  });

  it('in order (concurrency 1), one at a time, stopping at the first failure', async () => {
    const { driver, seen } = fakeDriver({}, ['leia']);
    const r = await runPhase(driver, env, scripts, 'setup', HOSTS, 10_000);
    expect(seen.most).toBe(1);
    expect(r.runs.map((x) => x.host)).toEqual(['workstation', 'luke', 'leia']);
    expect(r.failure?.host).toBe('leia');
  });
});
