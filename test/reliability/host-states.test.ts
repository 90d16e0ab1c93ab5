/**
 * The seams of the host watch that need no engine: Docker's State in words (docker/state.ts),
 * what the watch pass does with a set of states (host-recovery.ts), and the Kind driver's
 * hosts/restart over a fake Docker driver (kind and its node containers are not on this machine).
 */
import { describe, expect, it, vi } from 'vitest';
import type { DockerDriver } from '../../lib/environments/docker/driver';
import type { Environment, HostState } from '../../lib/environments/driver';
import { hostState, stopReason, type ContainerState } from '../../lib/environments/docker/state';
import { KindDriver } from '../../lib/environments/kind/driver';
import { planHosts, readHostStates, stoppedRefusal } from '../../lib/sessions/host-recovery';

const engine = new Date('2026-11-30T06:00:00Z');
const state = (over: Partial<ContainerState>): ContainerState => ({
  Status: 'exited',
  Running: false,
  Paused: false,
  OOMKilled: false,
  Dead: false,
  ExitCode: 0,
  StartedAt: '2026-11-30T05:00:00Z',
  FinishedAt: '2026-11-30T05:30:00Z',
  ...over,
});
const MiB = 1024 * 1024;

describe('why a container stopped', () => {
  it('reads Docker State the way it was measured', () => {
    expect(stopReason(state({ ExitCode: 137, OOMKilled: true }), 64 * MiB, engine)).toBe('it ran out of memory (limit 64 MiB)');
    expect(stopReason(state({ ExitCode: 137 }), 64 * MiB, engine)).toBe('it was killed (SIGKILL)');
    expect(stopReason(state({ ExitCode: 143 }), 64 * MiB, engine)).toBe('it was told to stop (SIGTERM)');
    expect(stopReason(state({ ExitCode: 139 }), 64 * MiB, engine)).toBe('its main process ended on a signal (SIGSEGV)');
    expect(stopReason(state({ ExitCode: 0 }), undefined, undefined)).toBe('its main process ended');
    expect(stopReason(state({ ExitCode: 2 }), undefined, undefined)).toBe('its main process exited with code 2');
  });

  it('puts a stop down to the engine only when it happened around the engine start, to a container the old engine ran', () => {
    // Stopped by the engine going down (before its start) or by the new engine cleaning up (after).
    expect(stopReason(state({ ExitCode: 143, FinishedAt: '2026-11-30T05:59:50Z' }), undefined, engine)).toBe('the container engine restarted');
    expect(stopReason(state({ ExitCode: 255, FinishedAt: '2026-11-30T06:00:03Z' }), undefined, engine)).toBe('the container engine restarted');
    // Long before the engine started: something else stopped it.
    expect(stopReason(state({ ExitCode: 137, FinishedAt: '2026-11-30T05:30:00Z' }), undefined, engine)).toBe('it was killed (SIGKILL)');
    // Started by the new engine, then killed: not the restart.
    expect(stopReason(state({ ExitCode: 137, StartedAt: '2026-11-30T06:00:10Z', FinishedAt: '2026-11-30T06:00:20Z' }), undefined, engine)).toBe(
      'it was killed (SIGKILL)',
    );
    // Engine start unknown (no default bridge): never claimed.
    expect(stopReason(state({ ExitCode: 143, FinishedAt: '2026-11-30T05:59:50Z' }), undefined, undefined)).toBe('it was told to stop (SIGTERM)');
  });

  it('maps inspect to running, stopped or gone', () => {
    expect(hostState('ws', undefined, undefined, undefined)).toEqual({ host: 'ws', state: 'gone', reason: 'its container was removed' });
    expect(hostState('ws', state({ Running: true, Status: 'running', FinishedAt: '0001-01-01T00:00:00Z' }), undefined, undefined)).toEqual({
      host: 'ws',
      state: 'running',
      startedAt: '2026-11-30T05:00:00Z',
    });
    expect(hostState('ws', state({ Running: true, Paused: true }), undefined, undefined)).toMatchObject({ state: 'stopped', reason: 'it was paused' });
    expect(hostState('ws', state({ Dead: true, Status: 'dead' }), undefined, undefined)).toMatchObject({ state: 'gone' });
    expect(hostState('ws', state({ ExitCode: 137 }), undefined, undefined)).toMatchObject({ state: 'stopped', finishedAt: '2026-11-30T05:30:00Z' });
  });
});

describe('the watch pass plan', () => {
  const now = new Date('2026-11-30T06:01:30Z');
  const labHosts = ['workstation', 'server'];
  const stopped: HostState = { host: 'workstation', state: 'stopped', reason: 'it ran out of memory (limit 512 MiB)', finishedAt: '2026-11-30T06:01:12Z' };

  it('records a newly stopped host once, with what happened and what to do', () => {
    const plan = planHosts([stopped, { host: 'server', state: 'running' }], {}, labHosts, now);
    expect(plan).toEqual({
      changes: [
        {
          host: 'workstation',
          state: 'stopped',
          notice: {
            kind: 'stopped',
            message:
              'workstation stopped at 06:01 UTC: it ran out of memory (limit 512 MiB). Your files are kept; programs that were running ended. Press Restart workstation.',
          },
        },
      ],
    });
    const rec = { workstation: { state: 'stopped' as const, notices: [] } };
    expect(planHosts([stopped], rec, labHosts, now)).toEqual({ changes: [] });
    expect(planHosts([{ host: 'workstation', state: 'running', startedAt: '2026-11-30T06:05:00Z' }], rec, labHosts, now).changes[0]).toMatchObject({
      state: 'running',
      notice: { kind: 'restarted', message: 'workstation is running again since 06:05 UTC: files kept, programs that were running ended.' },
    });
  });

  it('fails on a gone host, or on a part of the environment the lab does not name that is not running', () => {
    expect(planHosts([{ host: 'server', state: 'gone', reason: 'its container was removed' }], {}, labHosts, now).gone).toBe(
      'host server is gone (its container was removed)',
    );
    const node: HostState = {
      host: 'lf-x-worker',
      state: 'gone',
      reason: 'kind node lf-x-worker is exited (Exited (137)); a cluster node cannot be restarted safely',
    };
    expect(planHosts([stopped, node], {}, labHosts, now).gone).toBe(node.reason);
  });

  it('words the 409', () => {
    expect(stoppedRefusal(['workstation'])).toBe('workstation is stopped: restart it first');
    expect(stoppedRefusal(['a', 'b'])).toBe('a and b are stopped: restart them first');
  });

  it('reads a driver without hosts() through health(): broken means gone, as before', async () => {
    const env = { hosts: [{ name: 'workstation' }] } as unknown as Environment;
    const broken = { health: async () => ({ ok: false, detail: 'host workstation is exited' }) } as never;
    const states = await readHostStates(broken, env);
    expect(planHosts(states, {}, ['workstation'], now).gone).toBe('host workstation is exited');
    const fine = { health: async () => ({ ok: true }) } as never;
    expect(await readHostStates(fine, env)).toEqual([{ host: 'workstation', state: 'running' }]);
  });
});

describe('the Kind driver (fake Docker underneath)', () => {
  const env = {
    driver: 'kind',
    owner: 'k1',
    lab: 'l',
    hosts: [{ name: 'workstation', ref: 'c1', spec: {} }],
    meta: { cluster: 'lf-k1' },
  } as unknown as Environment;
  function kind(nodes: { Names: string[]; State: string; Status: string; Id: string }[]) {
    const restartHost = vi.fn(async () => ({ name: 'workstation', ref: 'c1', address: '10.0.0.9' }));
    const listContainers = vi.fn(async () => nodes);
    const docker = {
      hosts: async () => [{ host: 'workstation', state: 'stopped', reason: 'it was killed (SIGKILL)' }],
      restartHost,
      docker: { listContainers },
    } as unknown as DockerDriver;
    return { driver: new KindDriver({ docker, dataDir: '/nonexistent', run: async () => ({ code: 0, stdout: '', stderr: '' }) }), restartHost, listContainers };
  }

  it('reports workstations as Docker does and a node that is not running as gone', async () => {
    const { driver, listContainers } = kind([
      { Names: ['/lf-k1-control-plane'], State: 'running', Status: 'Up 5 minutes', Id: 'n1' },
      { Names: ['/lf-k1-worker'], State: 'exited', Status: 'Exited (137) 3 seconds ago', Id: 'n2' },
    ]);
    const states = await driver.hosts(env);
    expect(listContainers).toHaveBeenCalledWith({ all: true, filters: { label: ['io.x-k8s.kind.cluster=lf-k1'] } });
    expect(states).toEqual([
      { host: 'workstation', state: 'stopped', reason: 'it was killed (SIGKILL)' },
      { host: 'lf-k1-control-plane', state: 'running' },
      {
        host: 'lf-k1-worker',
        state: 'gone',
        reason: 'kind node lf-k1-worker is exited (Exited (137) 3 seconds ago); a cluster node cannot be restarted safely',
      },
    ]);
    expect(planHosts(states, {}, ['workstation'], new Date()).gone).toMatch(/^kind node lf-k1-worker is exited/);
  });

  it('reports a cluster without node containers as gone, and restarts workstations through Docker', async () => {
    const { driver, restartHost } = kind([]);
    expect((await driver.hosts(env)).at(-1)).toEqual({ host: 'lf-k1', state: 'gone', reason: 'cluster lf-k1 is gone (no kind node containers)' });
    expect(await driver.restartHost(env, 'workstation')).toMatchObject({ address: '10.0.0.9' });
    expect(restartHost).toHaveBeenCalledWith(env, 'workstation');
  });
});
