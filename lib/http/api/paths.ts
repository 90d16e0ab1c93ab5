/**
 * Every /api/v1 route and method, described from the schemas the routes validate with
 * (requests.ts) and the schemas of their answers (responses.ts). Summaries are the README's
 * "HTTP API" table; test/http/openapi.test.ts fails when a route file is missing here.
 */
import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { operation as op, type ErrorStatus } from './operation';
import { CheckBody, ChallengePath, HostPath, ResultsQuery, SaveBody, SessionPath, SessionsQuery, StartBody, TabPath } from './requests';
import {
  ChallengeViewSchema,
  CheckResultSchema,
  FileStateSchema,
  HealthSchema,
  JoinLinkSchema,
  LabSummarySchema,
  OpenApiDocumentSchema,
  ResultsSchema,
  ServiceUrlSchema,
  SessionListSchema,
  SessionViewSchema,
  StartedForLearnerSchema,
  StartedSchema,
  StoppedSchema,
  TerminalTokenSchema,
  TrafficViewSchema,
} from './responses';

const session = (description: string) => ({ status: 200 as const, description, schema: SessionViewSchema });
const notReached: [ErrorStatus, string] = [404, 'No such session for this caller, or no such tab in the challenges it has reached so far'];

export const PATHS: ZodOpenApiPathsObject = {
  '/api/v1/labs': {
    get: op({
      summary: 'The catalog: every lab and its challenges',
      tag: 'Labs',
      access: 'public',
      ok: { status: 200, description: 'The labs', schema: z.array(LabSummarySchema) },
      errors: [],
    }),
  },
  '/api/v1/health': {
    get: op({
      summary: 'Whether the server is up and can save',
      description:
        'Operators (from loopback, or with `Authorization: Bearer $LABFORGE_OPERATOR_TOKEN`) also get `database` and `drivers`: what each driver is missing.',
      tag: 'Platform',
      access: 'public',
      ok: { status: 200, description: 'Up, and the database can be written', schema: HealthSchema },
      more: { 503: { description: 'The database cannot be written: `reason` says why', content: { 'application/json': { schema: HealthSchema } } } },
      errors: [],
    }),
  },
  '/api/v1/openapi.json': {
    get: op({
      summary: 'This document',
      tag: 'Platform',
      access: 'public',
      ok: { status: 200, description: 'The OpenAPI 3.1 description of the API', schema: OpenApiDocumentSchema },
      errors: [],
    }),
  },
  '/api/v1/results': {
    get: op({
      summary: "Per session of the token's labs: learner, status, score, and per challenge attempts, first pass, time to pass, last failure",
      description: '`format=csv` or `Accept: text/csv`: the same as a spreadsheet, one row per session and challenge. Oldest first.',
      tag: 'Graders',
      access: 'grader',
      query: ResultsQuery,
      ok: { status: 200, description: 'The results', schema: ResultsSchema, csv: true },
      errors: [400, 401, [403, 'The token does not name this lab'], 503],
    }),
  },
  '/api/v1/sessions': {
    get: op({
      summary: "This browser's sessions, newest first; with a token: the sessions of its labs",
      description: 'A token may filter by `learner` and ask for up to 200 (`limit`); without a cookie or a token the list is empty.',
      tag: 'Sessions',
      access: 'optional',
      query: SessionsQuery,
      ok: { status: 200, description: 'The sessions (their challenge progress left out)', schema: SessionListSchema },
      errors: [[400, 'A query parameter is malformed (grader token)'], 401, [404, 'A cookie header without a valid learner cookie'], 503],
    }),
    post: op({
      summary: 'Start a session of a lab',
      description:
        'From a browser: `{lab}`, and the learner cookie is set if there is none. With a grader token: `{lab, learner}`, for that learner, with a single-use join link (15 minutes) and no cookie.',
      tag: 'Sessions',
      access: 'optional',
      body: StartBody,
      ok: {
        status: 201,
        description: 'Started (the environment is being prepared: status provisioning)',
        schema: z.union([StartedSchema, StartedForLearnerSchema]),
        headers: z.object({ 'set-cookie': z.string().optional().meta({ description: 'The learner cookie, when this request created the learner' }) }),
      },
      errors: [
        400,
        401,
        [403, "Another site's page (Origin), a lab the token does not name, or a later challenge without author mode"],
        [404, 'No such lab'],
        [409, 'Past the caps on live sessions: `session` and `sessions` name the live ones'],
        413,
        429,
        503,
      ],
    }),
  },
  '/api/v1/sessions/{id}': {
    get: op({
      summary: 'The session: status, current challenge, challenges, progress, hosts, expiry',
      tag: 'Sessions',
      access: 'session',
      path: SessionPath,
      ok: session('The session'),
      errors: [401, 404, 503],
    }),
    delete: op({
      summary: 'Stop the session and remove its environment',
      tag: 'Sessions',
      access: 'session',
      path: SessionPath,
      ok: { status: 200, description: 'Stopped (also when it had already ended)', schema: StoppedSchema },
      errors: [401, 403, 404, 503],
    }),
  },
  '/api/v1/sessions/{id}/check': {
    post: op({
      summary: 'Run the Check of the current challenge (`answers` for quizzes)',
      description: "A quiz's wrong answer says only that it is wrong.",
      tag: 'Sessions',
      access: 'session',
      path: SessionPath,
      body: CheckBody,
      bodyOptional: true,
      ok: { status: 200, description: 'The verdict, with the message the learner sees', schema: CheckResultSchema },
      errors: [
        [400, 'Malformed body, or a quiz answer that is not one'],
        401,
        403,
        404,
        [409, "Not active, a host stopped, or a quiz's last attempt used"],
        413,
        429,
        503,
      ],
    }),
  },
  '/api/v1/sessions/{id}/next': {
    post: op({
      summary: 'Move on to the next challenge (the last one completes the session)',
      tag: 'Sessions',
      access: 'session',
      path: SessionPath,
      ok: session('The session, on its next challenge (or completed)'),
      errors: [401, 403, 404, [409, 'Not active, a host stopped, or the current challenge not passed yet (and skipping not enabled)'], 503],
    }),
  },
  '/api/v1/sessions/{id}/extend': {
    post: op({
      summary: 'Add 15 minutes to the time limit, once per session',
      tag: 'Sessions',
      access: 'session',
      path: SessionPath,
      ok: session('The session, with its later expiresAt'),
      errors: [401, 403, 404, [409, 'Not active, or already extended'], 503],
    }),
  },
  '/api/v1/sessions/{id}/challenges/{index}': {
    get: op({
      summary: 'An earlier challenge, to read again (nothing is rerun)',
      tag: 'Sessions',
      access: 'session',
      path: ChallengePath,
      ok: { status: 200, description: 'The challenge', schema: ChallengeViewSchema },
      errors: [[400, 'index is not a whole number from 0'], 401, [404, 'No such session for this caller, or a challenge not reached yet'], 503],
    }),
  },
  '/api/v1/sessions/{id}/files/{tab}': {
    get: op({
      summary: 'Read the file an editor tab names',
      tag: 'Session tabs',
      access: 'session',
      path: TabPath,
      ok: { status: 200, description: 'The file (empty, version "missing", when it does not exist yet)', schema: FileStateSchema },
      errors: [[400, 'Not a regular file, or larger than 1 MiB'], 401, notReached, 409, 503],
    }),
    put: op({
      summary: 'Save the file an editor tab names',
      tag: 'Session tabs',
      access: 'session',
      path: TabPath,
      body: SaveBody,
      ok: { status: 200, description: 'The saved file', schema: FileStateSchema },
      errors: [
        400,
        401,
        403,
        notReached,
        [409, 'Not active, a host stopped, or the file changed since `version` (send force to overwrite)'],
        [413, 'The body is larger than 2 MiB'],
        503,
      ],
    }),
  },
  '/api/v1/sessions/{id}/terminals/{tab}/token': {
    post: op({
      summary: 'A terminal token: single use, 30 s, for `ws://…/ws/terminal?token=`',
      tag: 'Session tabs',
      access: 'session',
      path: TabPath,
      ok: { status: 200, description: 'The token and the WebSocket path', schema: TerminalTokenSchema },
      errors: [401, [403, "Another site's page, or a grader token created without --terminals"], notReached, 409, 429, 503],
    }),
  },
  '/api/v1/sessions/{id}/hosts/{host}/restart': {
    post: op({
      summary: 'Start a stopped host again (files kept, programs ended)',
      description: 'A running host: 200, nothing changes. A host that is gone fails the session (409).',
      tag: 'Sessions',
      access: 'session',
      path: HostPath,
      ok: session('The session'),
      errors: [401, 403, [404, 'No such session for this caller, or no such host'], [409, 'Not active, or a host is gone (the session failed)'], 429, 503],
    }),
  },
  '/api/v1/sessions/{id}/join': {
    post: op({
      summary: 'A new join link for a session the token started',
      tag: 'Graders',
      access: 'grader',
      path: SessionPath,
      ok: { status: 201, description: 'A single-use link for the learner, valid 15 minutes', schema: JoinLinkSchema },
      errors: [401, [403, 'A session this token did not start for a learner'], 404, [409, 'The session has ended: nothing to join'], 503],
    }),
  },
  '/api/v1/sessions/{id}/traffic': {
    get: op({
      summary: 'The Traffic tab: per multicast group, senders, receivers, packets over time',
      description: '`capturing: false` until a POST started the capture. Polling does not count as learner activity.',
      tag: 'Session tabs',
      access: 'session',
      path: SessionPath,
      ok: { status: 200, description: 'What was captured so far', schema: TrafficViewSchema },
      errors: [401, notReached, 409, 503],
    }),
    post: op({
      summary: "Start (or keep) the Traffic tab's capture; answers like GET",
      tag: 'Session tabs',
      access: 'session',
      path: SessionPath,
      ok: { status: 200, description: 'What was captured so far', schema: TrafficViewSchema },
      errors: [401, 403, notReached, 409, 503],
    }),
  },
  '/api/v1/sessions/{id}/services/{tab}': {
    get: op({
      summary: "A service tab's address, `/svc/:id/:tab/:key/`",
      description: "Owner only; the key authorises the sandboxed page's requests.",
      tag: 'Session tabs',
      access: 'session',
      path: TabPath,
      ok: { status: 200, description: 'Where the tab points', schema: ServiceUrlSchema },
      errors: [401, notReached, 409, 503],
    }),
  },
};
