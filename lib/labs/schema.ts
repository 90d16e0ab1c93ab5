/**
 * The lab format, v1: zod schemas for `track.yml` and each challenge's
 * `assignment.md` front matter. Close to Instruqt's track layout so existing
 * tracks port with few edits (`code` tabs are accepted as `editor`, durations
 * are seconds). The loader (loader.ts) turns files into these types and maps
 * every zod issue back to a file and line.
 */
import { z } from 'zod';
import { environmentSchema, hostName } from './environment-schema';

export * from './environment-schema';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a lowercase slug (letters, digits, dashes)');
const seconds = z.number().int().positive();
const variableName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be UPPER_SNAKE_CASE');


/**
 * Which scripts receive a variable: a kind (`check`: every check script), a kind and a host
 * (`solve-workstation`), either of them in one challenge only (`exam/solve-workstation`, by the
 * challenge's slug; `track/setup` for track setup scripts).
 */
export const variableScope = z
  .string()
  .regex(
    /^([a-z0-9][a-z0-9-]*\/)?(setup|check|solve|cleanup)(-[a-z0-9][a-z0-9-]*)?$/,
    'must be setup, check, solve or cleanup, optionally with a host (solve-workstation) and a challenge slug before it (exam/solve-workstation)',
  );

/** Generated per-session values (secrets, random picks): for grading, injections and the scripts it names. */
export const variableSchema = z
  .object({
    name: variableName,
    pick: z.array(z.string()).min(1).optional(),
    random: z.object({ length: z.number().int().min(4).max(64), alphabet: z.string().min(2).optional() }).strict().optional(),
    value: z.string().optional(),
    /** Secret variables are never sent to the browser, and reach no host unless `scripts` names it. */
    secret: z.boolean().default(true),
    /**
     * The scripts that get it as an environment variable. Default: none for a secret (grades
     * and injections read it on the platform), every script for a non-secret one.
     */
    scripts: z.array(variableScope).optional(),
  })
  .strict()
  .refine((v) => [v.pick, v.random, v.value].filter((x) => x !== undefined).length === 1, {
    message: 'a variable needs exactly one of pick, random or value',
  });

export const timeoutsSchema = z
  .object({
    setup: seconds.default(1800),
    check: seconds.default(60),
    solve: seconds.default(1800),
    cleanup: seconds.default(300),
  })
  .strict();

export const trackSchema = z
  .object({
    slug,
    title: z.string().min(1),
    teaser: z.string().default(''),
    description: z.string().default(''),
    level: z.enum(['beginner', 'intermediate', 'advanced']).default('beginner'),
    tags: z.array(z.string()).default([]),
    timelimit: seconds.default(3600),
    idle_timeout: seconds.default(1800),
    skipping_enabled: z.boolean().default(false),
    /**
     * Setup scripts (track and challenge) of different hosts run at the same time instead of in
     * host order: for labs whose hosts' setups do not wait on each other.
     */
    parallel_setup: z.boolean().default(false),
    timeouts: timeoutsSchema.default({ setup: 1800, check: 60, solve: 1800, cleanup: 300 }),
    variables: z.array(variableSchema).default([]),
    environment: environmentSchema,
  })
  .strict();

export const tabSchema = z
  .object({
    title: z.string().min(1),
    type: z.preprocess((t) => (t === 'code' ? 'editor' : t), z.enum(['terminal', 'editor', 'service', 'website', 'traffic'])), // traffic: multicast capture of the session network, no hostname
    hostname: hostName.optional(),
    path: z.string().optional(),
    port: z.number().int().min(1).max(65535).optional(),
    /** Shown in an iframe: only http(s), never javascript:, data: or file: URLs. */
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  })
  .strict()
  .superRefine((tab, ctx) => {
    const need = (field: 'hostname' | 'port' | 'url' | 'path') =>
      tab[field] === undefined && ctx.addIssue({ code: 'custom', path: [field], message: `a ${tab.type} tab needs ${field}` });
    if (tab.type === 'terminal') need('hostname');
    if (tab.type === 'editor') {
      need('hostname');
      need('path');
    }
    if (tab.type === 'service') {
      need('hostname');
      need('port');
    }
    if (tab.type === 'website') need('url');
  });

const noteSchema = z.object({ type: z.literal('text'), contents: z.string() }).strict();

/** Where an expected answer comes from. */
const expectedValue = z.union([
  z.object({ variable: variableName }).strict(),
  z.object({ literal: z.string() }).strict(),
  z.object({ regex: z.string() }).strict(),
]);

export const gradeSchema = z
  .object({
    host: hostName,
    file: z.string().startsWith('/'),
    fields: z
      .array(
        z
          .object({
            name: z.string().min(1),
            expected: expectedValue,
            /** Shown in messages: `expected <describe>`. */
            describe: z.string().optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

/**
 * A datagram the platform sends from a host (a sidecar in that host's network namespace), so a
 * lab can have "someone" transmit without any process or secret inside the learner's hosts.
 * `from` and `payload` may name session variables as ${NAME}.
 */
export const injectionSchema = z
  .object({
    from: z.string().min(1),
    to: z.string().regex(/^(\d{1,3}\.){3}\d{1,3}:\d{1,5}$/, 'must be an IPv4 address and a UDP port, like 225.0.0.50:1234'),
    payload: z.string().max(8192),
    /** Copies sent, `interval` seconds apart. */
    count: z.number().int().min(1).max(20).default(1),
    interval: z.number().min(0).max(10).default(0.2),
    /** `check`: at every Check once the check scripts pass (before grading); `enter`: after the challenge's setup. */
    when: z.enum(['check', 'enter']).default('check'),
    /** Put before the verdict's message when a Check that sent this still fails. */
    notice: z.string().optional(),
  })
  .strict();

export const challengeFrontMatterSchema = z
  .object({
    slug,
    type: z.enum(['challenge', 'quiz']).default('challenge'),
    title: z.string().min(1),
    teaser: z.string().default(''),
    notes: z.array(noteSchema).default([]),
    tabs: z.array(tabSchema).default([]),
    difficulty: z.enum(['basic', 'intermediate', 'advanced']).default('basic'),
    timelimit: seconds.optional(),
    /** Quiz: the choices and the indexes of the right ones (never sent to the browser). */
    answers: z.array(z.string()).optional(),
    solution: z.array(z.number().int().nonnegative()).optional(),
    /** Quiz: how many Checks a learner gets (unlimited when unset); counted in the database. */
    attempts: z.number().int().positive().optional(),
    grade: gradeSchema.optional(),
    inject: z.array(injectionSchema).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.type !== 'quiz') return;
    if (!c.answers?.length) ctx.addIssue({ code: 'custom', path: ['answers'], message: 'a quiz needs answers' });
    if (!c.solution?.length) ctx.addIssue({ code: 'custom', path: ['solution'], message: 'a quiz needs a solution' });
    c.solution?.forEach((i, n) => {
      if (c.answers && i >= c.answers.length)
        ctx.addIssue({ code: 'custom', path: ['solution', n], message: `solution ${i} is not an index of answers (0..${c.answers.length - 1})` });
    });
  });

export type Track = z.infer<typeof trackSchema>;
export type Tab = z.infer<typeof tabSchema>;
export type Grade = z.infer<typeof gradeSchema>;
export type Injection = z.infer<typeof injectionSchema>;
export type ChallengeFrontMatter = z.infer<typeof challengeFrontMatterSchema>;
export type Variable = z.infer<typeof variableSchema>;

export const SCRIPT_KINDS = ['setup', 'check', 'solve', 'cleanup'] as const;
export type ScriptKind = (typeof SCRIPT_KINDS)[number];

/** A challenge as the platform uses it: front matter, body and the scripts found beside it. */
export interface Challenge extends ChallengeFrontMatter {
  index: number;
  /** Folder name, e.g. `01-meet-the-fleet`. */
  dir: string;
  /** Assignment markdown (front matter removed). */
  body: string;
  /** `scripts.check.workstation` = absolute path of `check-workstation`. */
  scripts: Partial<Record<ScriptKind, Record<string, string>>>;
}

export interface Lab {
  /** Absolute path of the lab folder. */
  root: string;
  track: Track;
  challenges: Challenge[];
  /** `track_scripts/setup-<host>` and `cleanup-<host>`. */
  trackScripts: Partial<Record<'setup' | 'cleanup', Record<string, string>>>;
}
