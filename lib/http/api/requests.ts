/**
 * What the v1 routes accept: path identifiers, query strings and JSON bodies. The routes validate
 * with these very schemas and lib/http/openapi.ts documents them, so the two cannot disagree.
 * Descriptions (`.meta`) are for the OpenAPI document; they change nothing in validation.
 */
import { z } from 'zod';
import { LearnerRefSchema } from '../../auth/on-behalf';
import { hostName } from '../../labs/schema';

/** Lab and challenge slugs, as lab folders name them (labs/schema.ts). */
export const SlugSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a slug: up to 63 lowercase letters, digits and dashes');

/** Session ids are 14 characters of [a-z0-9] (service.ts): room for another scheme, never for megabytes. */
export const SessionIdSchema = z.string().regex(/^[a-z0-9]{1,64}$/);

/** Tab ids are tab titles in lowercase and dashes (view.ts tabId). */
export const TabIdSchema = z.string().regex(/^[a-z0-9-]{1,128}$/);

/** An index in a path is text: at most 4 digits, so a huge number never reaches Number(). */
export const ChallengeIndexSchema = z.string().regex(/^\d{1,4}$/);

const learner = LearnerRefSchema.meta({ description: "The grader's own id for the learner: 1–128 letters, digits and . _ : @ -" });
const lab = SlugSchema.meta({ description: "The lab's slug" });

export const StartBody = z
  .object({
    lab,
    /** Author mode only: start at this challenge slug (earlier ones are solved). */
    challenge: SlugSchema.optional().meta({ description: 'Author mode only (LABFORGE_AUTHOR_MODE=1): start at this challenge, earlier ones solved' }),
    /** Graders only (a Bearer token): their own id for the learner the session is for. */
    learner: learner.optional().meta({ description: 'Graders only (Bearer token, then required): the learner the session is for' }),
  })
  .strict()
  .meta({ id: 'StartSession' });

export const CheckBody = z
  .object({
    answers: z.array(z.number().int().nonnegative()).max(64).optional().meta({ description: "A quiz's answer: the indexes of the chosen answers, from 0" }),
  })
  .strict()
  .meta({ id: 'CheckRequest' });

export const SaveBody = z
  .object({
    content: z.string().max(1024 * 1024),
    version: z.string().max(128).meta({ description: 'The version the editor read (GET), so a file changed since is not overwritten' }),
    force: z.boolean().optional().meta({ description: 'Overwrite even if the file changed since' }),
  })
  .strict()
  .meta({ id: 'SaveFile' });

/** GET /api/v1/results: every parameter a grader may send; anything else is refused (400). */
export const ResultsQuery = z
  .object({
    lab: SlugSchema.optional().meta({ description: 'Only this lab (one the token names)' }),
    learner: learner.optional(),
    since: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 time, e.g. 2026-11-30T09:00:00Z' })
      .optional()
      .meta({ description: 'Sessions created then or later (ISO 8601)' }),
    limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(500),
    format: z.enum(['json', 'csv']).optional().meta({ description: 'csv: the same as a spreadsheet (as does Accept: text/csv)' }),
  })
  .strict();

/** GET /api/v1/sessions with a grader token. */
export const SessionsQuery = z.object({
  learner: learner.optional(),
  limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
});

/** Path parameters, one object per route shape, as OpenAPI wants them. */
const id = SessionIdSchema.meta({ description: 'The session id' });
const tab = TabIdSchema.meta({ description: "The tab's id: its title in lowercase and dashes" });
export const SessionPath = z.object({ id });
export const TabPath = z.object({ id, tab });
export const HostPath = z.object({ id, host: hostName.meta({ description: 'The host, as the lab names it' }) });
export const ChallengePath = z.object({ id, index: ChallengeIndexSchema.meta({ description: 'The challenge, from 0' }) });
