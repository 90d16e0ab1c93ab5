/** Errors the session layer returns to its callers, each with a message for humans. */
export type SessionErrorCode = 'not_found' | 'forbidden' | 'conflict' | 'invalid' | 'unavailable';

export class SessionError extends Error {
  constructor(
    readonly code: SessionErrorCode,
    message: string,
    /** More fields for the JSON answer, e.g. `{session: {id, lab, status}}` naming what a conflict is with. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

export const notFound = (what: string) => new SessionError('not_found', `${what} not found`);

/**
 * Whether the same request may succeed later with nothing changed by the caller but time or a
 * click elsewhere: the engine or the database failing (not a SessionError at all), a service
 * unavailable, or a refusal marked `retryable` (a stopped host, an environment still being
 * prepared). A terminal keeps reconnecting after these, and gives up on the others.
 */
export function isTemporary(e: unknown): boolean {
  if (!isSessionError(e)) return true;
  return e.code === 'unavailable' || e.details?.retryable === true;
}

/**
 * Route handlers are bundled by Next, so the class they import is not the one
 * the runtime threw: recognise session errors by shape, not by instanceof.
 */
export function isSessionError(e: unknown): e is SessionError {
  return e instanceof Error && e.name === 'SessionError' && typeof (e as SessionError).code === 'string';
}
