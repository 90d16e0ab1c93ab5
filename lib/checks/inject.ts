/**
 * Injections (a challenge's `inject:`): datagrams the platform sends from a host, with
 * `${NAME}` in `from` and `payload` replaced by session variables. Values stay on the
 * platform; the driver sends from a place the learner cannot see (EnvironmentDriver.inject).
 */
import type { Environment, EnvironmentDriver } from '../environments/driver';
import type { Injection } from '../labs/schema';

export interface InjectionRun {
  to: string;
  ok: boolean;
  /** Set when it failed: for instructors, and for the learner's generic "could not send" message. */
  error?: string;
  durationMs: number;
}

/** `${NAME}` → the variable's value; an unknown name is an error (lint catches it earlier). */
export function expand(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_, name: string) => {
    if (!(name in vars)) throw new Error(`unknown variable \${${name}}`);
    return vars[name];
  });
}

export async function runInjections(
  driver: EnvironmentDriver,
  env: Environment,
  injections: readonly Injection[],
  vars: Record<string, string>,
): Promise<InjectionRun[]> {
  const runs: InjectionRun[] = [];
  for (const inj of injections) {
    const started = Date.now();
    try {
      const host = expand(inj.from, vars);
      // `pod/NAME` is for drivers with pods (Kind); the driver refuses what it cannot send from.
      if (!host.startsWith('pod/') && !env.hosts.some((h) => h.name === host)) throw new Error(`no host "${host}" to send from`);
      const [address, port] = inj.to.split(':');
      await driver.inject(env, host, {
        address,
        port: Number(port),
        payload: Buffer.from(expand(inj.payload, vars), 'utf8'),
        count: inj.count,
        intervalMs: Math.round(inj.interval * 1000),
      });
      runs.push({ to: inj.to, ok: true, durationMs: Date.now() - started });
    } catch (err) {
      runs.push({ to: inj.to, ok: false, error: (err as Error).message, durationMs: Date.now() - started });
    }
  }
  return runs;
}
