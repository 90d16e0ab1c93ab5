import type { SessionErrorCode } from '../sessions/errors';

/** The HTTP status of each session error, for every answer that carries one (API routes, service tabs). */
export const SESSION_ERROR_STATUS: Record<SessionErrorCode, number> = { not_found: 404, forbidden: 403, conflict: 409, invalid: 400, unavailable: 503 };
