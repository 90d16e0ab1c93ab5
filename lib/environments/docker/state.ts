/**
 * A Docker container's state in the driver's terms (EnvironmentDriver.hosts): running, stopped
 * (it can be started again, its disk is kept) or gone; and for a stopped one, why, in words a
 * learner can act on. Pure: docker.ts feeds it what `inspect` and the engine said.
 *
 * What the words rest on (measured on Docker 20.10, cgroup v1; docs/reliability.md "Faults"):
 * - `OOMKilled` is set when the container stopped after the kernel's OOM killer ended its main
 *   process (docker-init or the `sleep` under it). A learner's memory hog killed on its own
 *   leaves the container running; that is host-limits.ts's notice, not a stop.
 * - The engine's start time is not in `docker info`; the default `bridge` network is recreated
 *   by dockerd on every start (moby: "Clear stale bridge network"), so its `Created` is when the
 *   engine last started. A container that stopped within ENGINE_WINDOW_MS of that, after being
 *   started by the engine before it, was stopped by the engine going down or by the restarted
 *   engine cleaning up (exit codes vary: 143, 137, 255).
 */
import { formatBytes, type HostState } from '../driver';

/** How far from the engine's start a container's stop still counts as caused by the restart. */
export const ENGINE_WINDOW_MS = 60_000;

/** The fields of `docker inspect`'s State this reads. */
export interface ContainerState {
  Status: string;
  Running: boolean;
  Paused: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  ExitCode: number;
  StartedAt: string;
  FinishedAt: string;
}

/** Docker writes 0001-01-01T00:00:00Z for "never". */
const time = (iso: string | undefined): number | undefined => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) && t > 0 ? t : undefined;
};

const SIGNALS: Record<number, string> = { 9: 'SIGKILL', 15: 'SIGTERM', 2: 'SIGINT', 1: 'SIGHUP', 6: 'SIGABRT', 11: 'SIGSEGV' };

/** Why a stopped container stopped, as a clause after "workstation stopped: ". */
export function stopReason(s: ContainerState, memoryLimit: number | undefined, engineStartedAt: Date | undefined): string {
  const finished = time(s.FinishedAt);
  const started = time(s.StartedAt);
  if (engineStartedAt && finished !== undefined && (started === undefined || started < engineStartedAt.getTime())) {
    if (Math.abs(finished - engineStartedAt.getTime()) <= ENGINE_WINDOW_MS) return 'the container engine restarted';
  }
  if (s.OOMKilled) return `it ran out of memory${memoryLimit ? ` (limit ${formatBytes(memoryLimit)})` : ''}`;
  if (s.ExitCode > 128 && s.ExitCode < 160) {
    const sig = s.ExitCode - 128;
    if (sig === 9) return 'it was killed (SIGKILL)';
    if (sig === 15) return 'it was told to stop (SIGTERM)';
    return `its main process ended on a signal (${SIGNALS[sig] ?? `signal ${sig}`})`;
  }
  if (s.ExitCode === 0) return 'its main process ended';
  return `its main process exited with code ${s.ExitCode}`;
}

/** A container's inspect State as a HostState; `undefined` State means the container is gone (404). */
export function hostState(host: string, s: ContainerState | undefined, memoryLimit: number | undefined, engineStartedAt: Date | undefined): HostState {
  if (!s) return { host, state: 'gone', reason: 'its container was removed' };
  const startedAt = time(s.StartedAt) ? s.StartedAt : undefined;
  const finishedAt = time(s.FinishedAt) ? s.FinishedAt : undefined;
  if (s.Dead || s.Status === 'removing') return { host, state: 'gone', reason: 'its container is being removed', startedAt };
  if (s.Paused) return { host, state: 'stopped', reason: 'it was paused', startedAt };
  if (s.Running) return { host, state: 'running', startedAt };
  return { host, state: 'stopped', reason: stopReason(s, memoryLimit, engineStartedAt), startedAt, finishedAt };
}
