/** The drivers this server offers, by the name labs use in `environment.driver`. */
import type { EnvironmentDriver } from './driver';
import { DockerDriver, type DiskLimits } from './docker/driver';
import type { FirewallMode } from './docker/boundary';
import { KindDriver } from './kind/driver';

/**
 * `instance` names the server (derived from its data dir) so that two Labforge
 * servers on one Docker engine never reconcile away each other's environments.
 * Constructing the drivers spawns and connects nothing: a machine without kind
 * still starts; `prerequisites()` tells what is missing when a Kind lab is used.
 */
export function createDrivers(opts: { instance?: string; firewall?: FirewallMode; diskLimits?: DiskLimits } = {}): Record<string, EnvironmentDriver> {
  const docker = new DockerDriver(opts);
  // The Kind driver makes its workstations through the same Docker driver.
  const kind = new KindDriver({ docker, instance: opts.instance });
  return { docker, kind };
}
