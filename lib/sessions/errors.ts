/** Errors the session layer returns to its callers, each with a message for humans. */
export type SessionErrorCode = 'not_found' | 'forbidden' | 'conflict' | 'invalid' | 'unavailable';

export class SessionError extends Error {
  constructor(
    readonly code: SessionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

export const notFound = (what: string) => new SessionError('not_found', `${what} not found`);
