import type { AccountError } from '../accounts/errors';
import type { SessionErrorCode } from '../sessions/errors';

/** The HTTP status of each session error, for every answer that carries one (API routes, service tabs). */
export const SESSION_ERROR_STATUS: Record<SessionErrorCode, number> = { not_found: 404, forbidden: 403, conflict: 409, invalid: 400, unavailable: 503 };

/** The HTTP status of each account error (sign-in, setup links, invites). */
export const ACCOUNT_ERROR_STATUS: Record<AccountError['code'], number> = {
  invalid: 400,
  credentials: 401,
  disabled: 403,
  not_found: 404,
  exists: 409,
  full: 409,
  expired: 410,
  used: 410,
};
