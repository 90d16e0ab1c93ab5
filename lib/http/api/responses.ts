/**
 * What the v1 routes answer, as zod schemas for the OpenAPI document (lib/http/openapi.ts). Each
 * is tied to the TypeScript type its route returns by a compile-time check at the end of this
 * file (or, for answers a route builds itself, by the route typing its answer with the schema's
 * type), so a field added to an answer without its schema fails `tsc`, and the contract test
 * (test/http/openapi.test.ts) checks real answers against the document.
 */
import { z } from 'zod';
import type { DatabaseHealth } from '../../db/health';
import type { Problem, ProgressStep } from '../../environments/driver';
import type { PublicQuiz } from '../../checks/quiz';
import type { Results } from '../../results/report';
import type { CheckResult } from '../../sessions/commands';
import type { FileState } from '../../sessions/files';
import type { HostView } from '../../sessions/hosts';
import type { SessionService } from '../../sessions/service';
import type { ChallengeView, SessionView, TabView } from '../../sessions/view';
import type { TrafficView } from '../../traffic/types';
import type { JoinLink, listForGrader, startForLearner } from '../grader-sessions';

const time = z.iso.datetime();

export const ErrorSchema = z
  .object({
    error: z.string().meta({ description: 'What went wrong, for humans' }),
    code: z.string().optional().meta({ description: 'A machine-readable reason: unauthorized, forbidden, rate_limited, storage, not_found, conflict, …' }),
    retryable: z.boolean().optional().meta({ description: 'The same request may work later (a host stopped, an environment being prepared)' }),
    hosts: z.array(z.string()).optional().meta({ description: 'The stopped hosts a refusal is about' }),
    session: z.object({ id: z.string(), lab: z.string(), status: z.string() }).optional().meta({ description: 'The live session a conflict is with' }),
    sessions: z.array(z.object({ id: z.string(), lab: z.string(), status: z.string() })).optional(),
  })
  .meta({ id: 'Error' });

export const SessionStatusSchema = z.enum(['provisioning', 'active', 'completed', 'expired', 'failed', 'stopped']).meta({ id: 'SessionStatus' });

const TabSchema = z.object({
  id: z.string(),
  title: z.string(),
  type: z.enum(['terminal', 'editor', 'service', 'website', 'traffic']),
  hostname: z.string().optional(),
  path: z.string().optional(),
  port: z.number().int().optional(),
  url: z.string().optional(),
});

const QuizSchema = z.object({
  answers: z.array(z.string()),
  multiple: z.boolean(),
  attempts: z.number().int().optional(),
  attemptsLeft: z.number().int().optional(),
});

export const ChallengeViewSchema = z
  .object({
    index: z.number().int(),
    slug: z.string(),
    title: z.string(),
    type: z.enum(['challenge', 'quiz']),
    teaser: z.string(),
    body: z.string().meta({ description: 'The assignment, in Markdown' }),
    notes: z.array(z.string()),
    tabs: z.array(TabSchema),
    quiz: QuizSchema.optional(),
    gradeFile: z.string().optional(),
  })
  .meta({ id: 'Challenge' });

const ProgressStepSchema = z.object({
  step: z.string(),
  status: z.enum(['running', 'done', 'failed']),
  ms: z.number().optional(),
  detail: z.string().optional(),
});

const HostNoticeSchema = z.object({ kind: z.enum(['stopped', 'restarted', 'oom', 'pids', 'disk']), message: z.string(), at: z.string() });
const HostViewSchema = z.object({ name: z.string(), state: z.enum(['running', 'stopped']), since: z.string().optional(), notices: z.array(HostNoticeSchema) });

const AuthorSchema = z
  .object({
    dir: z.string().meta({ description: 'The watched lab folder' }),
    version: z.number().int().meta({ description: 'Good versions loaded since start (1: as started)' }),
    loadedAt: time,
    errors: z
      .array(z.string())
      .meta({ description: '`file:line: error: message` of the files as they are now; while there are any, the last good version is served' }),
    warnings: z.array(z.string()),
    events: z.string().meta({ description: 'Server-sent events, one per look at the files: re-read the session then' }),
  })
  .meta({ description: '`labforge dev` only: the lab being written' });

export const SessionViewSchema = z
  .object({
    id: z.string(),
    lab: z.string(),
    labTitle: z.string(),
    status: SessionStatusSchema,
    error: z.string().optional(),
    challenge: z.string().nullable().meta({ description: 'The current challenge' }),
    index: z.number().int(),
    challenges: z.array(z.object({ slug: z.string(), title: z.string(), status: z.string(), attempts: z.number().int() })),
    current: ChallengeViewSchema.optional(),
    progress: z.array(ProgressStepSchema).meta({ description: "The environment's creation steps" }),
    queue: z
      .object({
        waitingFor: z.enum(['room', 'turn', 'replica']).meta({
          description: '`room`: memory on the server, freed as other sessions end; `turn`: to be prepared; `replica`: for one of several servers to take it',
        }),
        position: z.number().int().meta({ description: '1-based place in the queue' }),
        estimateMs: z.number().optional().meta({ description: 'Until the environment should be ready, from recent preparations (`turn` only)' }),
      })
      .optional()
      .meta({ description: "While the start waits in a queue (a single session's view)" }),
    hosts: z.array(HostViewSchema),
    createdAt: time,
    startedAt: time.optional(),
    expiresAt: time.optional(),
    canExtend: z.boolean(),
    skippingEnabled: z.boolean(),
    messages: z
      .array(z.object({ id: z.number().int(), text: z.string(), from: z.string(), at: time }))
      .optional()
      .meta({ description: "The latest messages instructors sent to the learner (a single session's view only)" }),
    author: AuthorSchema.optional(),
  })
  .meta({ id: 'Session' });

/** A grader's list also names the learner of the sessions its token started. */
export const SessionListSchema = z.array(SessionViewSchema.extend({ learner: z.string().optional() }));

export const StartedSchema = z.object({ id: z.string(), status: SessionStatusSchema }).meta({ id: 'Started' });
export const JoinLinkSchema = z
  .object({ joinUrl: z.url().meta({ description: 'Works once, within 15 minutes' }), joinExpiresAt: time })
  .meta({ id: 'JoinLink' });
export const StartedForLearnerSchema = StartedSchema.extend({ learner: z.string(), ...JoinLinkSchema.shape }).meta({ id: 'StartedForLearner' });

export const CheckResultSchema = z.object({ passed: z.boolean(), message: z.string() }).meta({ id: 'CheckResult' });
export const StoppedSchema = z.object({ id: z.string(), status: z.literal('stopped') });
export const FileStateSchema = z
  .object({ path: z.string(), content: z.string(), version: z.string().meta({ description: 'sha256 of the content, or "missing"' }) })
  .meta({ id: 'File' });
export const TerminalTokenSchema = z.object({ token: z.string().meta({ description: 'Single use, 30 s' }), path: z.literal('/ws/terminal') });
export const ServiceUrlSchema = z.object({ url: z.string().meta({ description: '/svc/:id/:tab/:key/' }) });

const TrafficGroupSchema = z.object({
  group: z.string(),
  senders: z.array(
    z.object({ host: z.string().nullable(), ip: z.string(), packets: z.number(), bytes: z.number(), lastSeen: z.number(), ports: z.array(z.number()) }),
  ),
  receivers: z.array(z.object({ host: z.string().nullable(), ip: z.string(), since: z.number() })),
  series: z.array(z.object({ t: z.number(), counts: z.record(z.string(), z.number()) })),
  packets: z.number(),
  lastSeen: z.number().nullable(),
});
export const TrafficViewSchema = z
  .object({
    groups: z.array(TrafficGroupSchema),
    capturing: z.boolean(),
    since: z.number().nullable(),
    now: z.number(),
    bucketMs: z.number(),
    windowMs: z.number(),
    problem: z.string().optional(),
  })
  .meta({ id: 'Traffic' });

const ChallengeResultSchema = z.object({
  slug: z.string(),
  index: z.number().int(),
  status: z.string(),
  attempts: z.number().int(),
  firstPassAt: time.nullable(),
  secondsToPass: z.number().int().nullable(),
  lastFailure: z.string().nullable(),
});
export const ResultsSchema = z
  .object({
    results: z.array(
      z.object({
        session: z.string(),
        learner: z.string().nullable(),
        lab: z.string(),
        status: z.string(),
        createdAt: time,
        startedAt: time.nullable(),
        endedAt: time.nullable(),
        score: z.object({ passed: z.number().int(), total: z.number().int() }),
        challenges: z.array(ChallengeResultSchema),
      }),
    ),
    truncated: z.boolean().meta({ description: 'More sessions match: ask again with since = the last createdAt' }),
  })
  .meta({ id: 'Results' });

export const LabSummarySchema = z.object({
  slug: z.string(),
  title: z.string(),
  teaser: z.string(),
  level: z.enum(['beginner', 'intermediate', 'advanced']),
  tags: z.array(z.string()),
  driver: z.enum(['docker', 'kind']),
  timelimit: z.number().int().meta({ description: 'Seconds' }),
  challenges: z.array(z.object({ slug: z.string(), title: z.string(), type: z.enum(['challenge', 'quiz']) })),
});

const DatabaseHealthSchema = z.object({
  ok: z.boolean(),
  reason: z.string().optional(),
  code: z.string().optional(),
  lastFault: z.object({ code: z.string(), reason: z.string(), at: z.string() }).optional(),
});
export const HealthSchema = z
  .object({
    ok: z.boolean(),
    labs: z.number().int(),
    reason: z.string().optional(),
    database: DatabaseHealthSchema.optional().meta({ description: 'Operators only' }),
    drivers: z
      .record(z.string(), z.array(z.object({ what: z.string(), fix: z.string() })))
      .optional()
      .meta({ description: 'Operators only: what each driver is missing' }),
  })
  .meta({ id: 'Health' });

/** The document itself: only its frame is promised here (OpenAPI's own schema describes the rest). */
export const OpenApiDocumentSchema = z.looseObject({ openapi: z.literal('3.1.0'), info: z.looseObject({ title: z.string(), version: z.string() }) });

export type LabSummary = z.infer<typeof LabSummarySchema>;
export type Health = z.infer<typeof HealthSchema>;
export type Stopped = z.infer<typeof StoppedSchema>;
export type TerminalToken = z.infer<typeof TerminalTokenSchema>;
export type ServiceUrl = z.infer<typeof ServiceUrlSchema>;

/**
 * true when A and B are the same type (TypeScript's identity, stricter than assignability both
 * ways, which would let an optional field on one side only pass); else the `Assert` fails tsc.
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
type Out<T extends z.ZodType> = z.infer<T>;
/** An intersection (`A & {b}`) as one object type, which is what the schema's type is. */
type Flat<T> = { [K in keyof T]: T[K] };
type Returned<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

/** Each response schema against the type its route returns: a drift on either side fails tsc. */
export type ResponseTypeChecks = [
  Assert<Same<Out<typeof SessionViewSchema>, SessionView>>,
  Assert<Same<Out<typeof ChallengeViewSchema>, ChallengeView>>,
  Assert<Same<Out<typeof TabSchema>, TabView>>,
  Assert<Same<Out<typeof QuizSchema>, PublicQuiz>>,
  Assert<Same<Out<typeof ProgressStepSchema>, ProgressStep>>,
  Assert<Same<Out<typeof HostViewSchema>, HostView>>,
  Assert<Same<Out<typeof SessionListSchema>[number], Flat<Returned<typeof listForGrader>[number]>>>,
  Assert<Returned<SessionService['listFor']> extends Out<typeof SessionListSchema> ? true : false>,
  Assert<Same<Out<typeof StartedSchema>, Returned<SessionService['start']>>>,
  Assert<Same<Out<typeof StartedForLearnerSchema>, Returned<typeof startForLearner>>>,
  Assert<Same<Out<typeof JoinLinkSchema>, JoinLink>>,
  Assert<Same<Out<typeof CheckResultSchema>, CheckResult>>,
  Assert<Same<Out<typeof FileStateSchema>, FileState>>,
  Assert<Same<Out<typeof TrafficViewSchema>, TrafficView>>,
  Assert<Same<Out<typeof ResultsSchema>, Results>>,
  Assert<Same<Out<typeof DatabaseHealthSchema>, DatabaseHealth>>,
  Assert<Same<Out<typeof HealthSchema>['drivers'], Record<string, Problem[]> | undefined>>,
];
