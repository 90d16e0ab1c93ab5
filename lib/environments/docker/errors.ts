/**
 * Reading the Engine API's errors (as dockerode throws them): the HTTP status says what happened
 * (404 gone, 409 conflict or not running, 304 already so), the engine's own message says why.
 */
import { EnvironmentError } from '../driver';

export function engineStatus(err: unknown): number | undefined {
  return (err as { statusCode?: number } | undefined)?.statusCode;
}

/** The engine's own message, without dockerode's "(HTTP code 404) no such container -" prefix. */
export function engineReason(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string } | undefined;
  return e?.json?.message ?? e?.message ?? String(err);
}

/** For removals: already gone (404) or already being removed (409) is what was wanted. */
export function ignoreGone(err: unknown): void {
  if (engineStatus(err) !== 404 && engineStatus(err) !== 409) throw err;
}

/** Turns engine errors about a host's container into messages naming the host. */
export function hostError(err: unknown, host: string, what: string): EnvironmentError {
  if (err instanceof EnvironmentError) return err;
  if (engineStatus(err) === 404) return new EnvironmentError(`host ${host} is gone (its container was removed)`, 'start the lab again');
  if (engineStatus(err) === 409) return new EnvironmentError(`host ${host} is not running`, `press Restart ${host} on the lab page`);
  return new EnvironmentError(`${what} in host ${host} failed: ${engineReason(err)}`);
}
