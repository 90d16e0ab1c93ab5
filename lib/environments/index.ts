/** The drivers this server offers, by the name labs use in `environment.driver`. */
import type { EnvironmentDriver } from './driver';
import { DockerDriver, type DiskLimits } from './docker/driver';
import type { FirewallMode } from './docker/boundary';
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
}

/**
 * `instance` names the server (derived from its data dir) so that two Labforge
 * servers on one Docker engine never reconcile away each other's environments.
 * Constructing the drivers spawns and connects nothing: a machine without kind
 * still starts; `prerequisites()` tells what is missing when a Kind lab is used.
 * The drivers read no configuration: the caller passes what they need (lib/base/config.ts, read once).
 */
export function createDrivers(opts: DriverOptions): Record<string, EnvironmentDriver> {
  const docker = new DockerDriver(opts);
  // The Kind driver makes its workstations through the same Docker driver.
  const kind = new KindDriver({
    docker,
    instance: opts.instance,
    dataDir: opts.dataDir,
    network: opts.kindNetwork,
  });
  return { docker, kind };
}
