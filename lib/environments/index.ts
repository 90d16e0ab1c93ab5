/** The drivers this server offers, by the name labs use in `environment.driver`. */
import Dockerode from 'dockerode';
import type { EngineEntry } from '../base/engine-list';
import type { EnvironmentDriver } from './driver';
import { DockerDriver, type DiskLimits } from './docker/driver';
import type { FirewallMode } from './docker/boundary';
import { engineOptions } from './docker/engines';
import { DockerFleet } from './fleet';
import { KindDriver } from './kind/driver';

export interface DriverOptions {
  instance?: string;
  firewall?: FirewallMode;
  diskLimits?: DiskLimits;
  /** The server's data dir (image builds, and Kind's kubeconfigs and claims). */
  dataDir: string;
  /** The Debian mirror image builds use (LABFORGE_DEBIAN_MIRROR). */
  debianMirror?: string;
  /** Where image builds find release binaries instead of their official URLs (LABFORGE_DOWNLOAD_MIRROR). */
  downloadMirror?: string;
  /** The Docker network kind puts its nodes on (KIND_EXPERIMENTAL_DOCKER_NETWORK, which kind itself reads too); unset: `kind`. */
  kindNetwork?: string;
  /** Several Docker engines (LABFORGE_DOCKER_ENGINES): then `docker` is a fleet over them (fleet.ts). */
  dockerEngines?: EngineEntry[];
  /** How long a fleet's engine may be silent before its sessions fail (LABFORGE_ENGINE_DOWN_SECONDS). */
  engineDownMs?: number;
}

/**
 * `instance` names the server (derived from its data dir) so that two Labforge
 * servers on one Docker engine never reconcile away each other's environments.
 * Constructing the drivers spawns and connects nothing: a machine without kind
 * still starts; `prerequisites()` tells what is missing when a Kind lab is used.
 * The drivers read no configuration: the caller passes what they need (lib/base/config.ts, read once).
 */
export function createDrivers(opts: DriverOptions): Record<string, EnvironmentDriver> {
  const fleet = opts.dockerEngines?.length ? dockerFleet(opts, opts.dockerEngines) : undefined;
  const docker = fleet?.first ?? new DockerDriver(opts);
  // The Kind driver makes its workstations through the same Docker driver (a fleet's first engine:
  // kind runs its nodes on the engine of the machine it runs on).
  const kind = new KindDriver({
    docker,
    instance: opts.instance,
    dataDir: opts.dataDir,
    network: opts.kindNetwork,
  });
  return { docker: fleet?.driver ?? docker, kind };
}

/** One Docker driver per engine, each able to copy a missing image from the others. */
function dockerFleet(opts: DriverOptions, entries: EngineEntry[]): { driver: DockerFleet; first: DockerDriver } {
  const clients = entries.map((e) => ({ name: e.name, docker: new Dockerode(engineOptions(e)) }));
  const drivers = clients.map((c) => new DockerDriver({ ...opts, docker: c.docker, imagePeers: () => clients.filter((other) => other !== c) }));
  return {
    driver: new DockerFleet(
      drivers.map((driver, i) => ({ name: entries[i].name, driver })),
      { downAfterMs: opts.engineDownMs },
    ),
    first: drivers[0],
  };
}
