/**
 * One API operation in a few lines: who may call it, what it takes, what it answers on success, and
 * which error statuses it really returns (each rendered with the shared `{error, code?}` schema and
 * the headers that come with it). lib/http/api/paths.ts lists the operations with this.
 */
import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiResponseObject } from 'zod-openapi';
import { ErrorSchema } from './responses';

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503;

/** What each error status means across the API; an operation may say more about its own. */
const ERRORS: Record<ErrorStatus, string> = {
  400: 'The request is malformed: `error` names the field or parameter',
  401: 'The grader token is missing (on grader-only calls), malformed, unknown, revoked or expired: `error` and WWW-Authenticate say which',
  403: "Refused: a state change from another site's page (Origin), or a token whose scope does not cover it",
  404: "No such session for this caller (unknown, another browser's, a lab outside the token's scope, or a malformed id)",
  409: "The session's state does not allow it: not active, a host stopped or gone",
  413: 'The body is larger than 64 KiB: refused before it is read',
  429: 'Past a rate limit: Retry-After says in how many seconds to try again',
  503: 'The database cannot be written (nothing was saved; Retry-After), or the environment or its driver is unavailable',
};

const retryAfter = z.object({ 'retry-after': z.string().optional().meta({ description: 'Seconds to wait before trying again' }) });
const HEADERS: Partial<Record<ErrorStatus, ZodOpenApiResponseObject['headers']>> = {
  401: z.object({ 'www-authenticate': z.string().meta({ description: 'Bearer realm="labforge", with the error when a token was sent' }) }),
  429: z.object({ 'retry-after': z.string().meta({ description: 'Seconds to wait before trying again' }) }),
  503: retryAfter,
};

/**
 * Who may call: `public` (anyone), `session` (the learner cookie of the session's owner, or a grader
 * token for its lab), `grader` (a token only), `optional` (anyone; a cookie or a token changes the answer).
 */
export type Access = 'public' | 'session' | 'grader' | 'optional';
const SECURITY: Record<Access, ZodOpenApiOperationObject['security']> = {
  public: [],
  session: [{ learnerCookie: [] }, { bearerAuth: [] }],
  grader: [{ bearerAuth: [] }],
  optional: [{}, { learnerCookie: [] }, { bearerAuth: [] }],
};

export interface Operation {
  /** The README's line for it. */
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  path?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The body may be left out (POST …/check: only quizzes send answers). */
  bodyOptional?: boolean;
  /** The success status, its meaning and schema (and more responses, e.g. a 503 that is not an error body). */
  ok: { status: 200 | 201; description: string; schema: z.ZodType; csv?: boolean; headers?: ZodOpenApiResponseObject['headers'] };
  more?: Record<number, ZodOpenApiResponseObject>;
  /** Error statuses, with a sentence of this operation's own where the shared one says too little. */
  errors: Array<ErrorStatus | [ErrorStatus, string]>;
}

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

export function operation(op: Operation): ZodOpenApiOperationObject {
  const responses: ZodOpenApiOperationObject['responses'] = {
    [op.ok.status]: {
      description: op.ok.description,
      content: { ...json(op.ok.schema), ...(op.ok.csv ? { 'text/csv': { schema: z.string() } } : {}) },
      ...(op.ok.headers ? { headers: op.ok.headers } : {}),
    },
    ...op.more,
  };
  for (const e of op.errors) {
    const [status, own] = Array.isArray(e) ? e : [e, undefined];
    responses[`${status}`] = { description: own ?? ERRORS[status], content: json(ErrorSchema), ...(HEADERS[status] ? { headers: HEADERS[status] } : {}) };
  }
  return {
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    security: SECURITY[op.access],
    ...(op.path || op.query ? { requestParams: { ...(op.path ? { path: op.path } : {}), ...(op.query ? { query: op.query } : {}) } } : {}),
    ...(op.body ? { requestBody: { required: !op.bodyOptional, content: json(op.body) } } : {}),
    responses,
  };
}
