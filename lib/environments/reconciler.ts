/**
 * Removes environments that no live session owns: leftovers of a crash, of a
 * server stopped mid-provisioning, or of a session ended while the engine was down.
 * Runs at start and then periodically (lib/runtime/background.ts). The live owners are read after
 * the listing, so an environment whose session starts meanwhile is never taken
 * for a leftover.
 */
import type { EnvironmentDriver } from './driver';
import type { Logger } from '../base/log';

export async function reconcile(drivers: EnvironmentDriver[], liveOwners: () => Promise<Set<string>>, log: Logger): Promise<{ removed: string[] }> {
  const removed: string[] = [];
  for (const driver of drivers) {
    const found = await driver.list().catch((e: Error) => {
      log.warn({ driver: driver.name, err: e.message }, 'reconciler could not list environments');
      return [];
    });
    if (!found.length) continue;
    const live = await liveOwners();
    for (const env of found) {
      if (live.has(env.owner)) continue;
      try {
        await driver.destroyOwner(env.owner);
        removed.push(env.owner);
        log.info({ driver: driver.name, owner: env.owner, resources: env.resources.length }, 'removed orphaned environment');
      } catch (e) {
        // One stubborn leftover must not stop the others from going, nor the server from starting.
        log.warn({ driver: driver.name, owner: env.owner, err: (e as Error).message }, 'could not remove orphaned environment');
      }
    }
  }
  return { removed };
}
