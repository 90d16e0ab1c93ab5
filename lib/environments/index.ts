/** The drivers this server offers, by the name labs use in `environment.driver`. */
import type { EnvironmentDriver } from './driver';
import { DockerDriver } from './docker';

/**
 * `instance` names the server (derived from its data dir) so that two Labforge
 * servers on one Docker engine never reconcile away each other's environments.
 */
export function createDrivers(opts: { instance?: string } = {}): Record<string, EnvironmentDriver> {
  const docker = new DockerDriver({ instance: opts.instance });
  return { docker };
}
