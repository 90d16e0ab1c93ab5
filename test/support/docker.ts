/** The Docker engine for suites that drive it (`*.docker.test.ts`). */
import Dockerode from 'dockerode';

/** Fails the suite at once, saying what to do, when no engine answers (instead of a timeout per test). */
export async function requireEngine(docker: Dockerode = new Dockerode()): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `Docker engine not reachable (${(err as Error).message}): install docker.io and start dockerd (bash scripts/setup-machine.sh); this suite needs a real engine`,
    );
  }
}

/** Environment owners for one suite run: unique per run, remembered so `afterAll` can remove them all. */
export function testOwners(run: string) {
  const owners: string[] = [];
  const newOwner = (what: string) => {
    const o = `test-${run}-${what}`;
    owners.push(o);
    return o;
  };
  return { owners, newOwner };
}
